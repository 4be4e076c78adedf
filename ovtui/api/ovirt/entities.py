"""ovtui's model as oVirt entities. Only what ovtui knows is sent; the elements tooling
dereferences without checking (a host's power_management/spm/os, a VM's os/template/creation
time) are always present, with the value that is true of ovtui (no power management, no SPM).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from ovtui.api.ovirt.ids import BLANK_TEMPLATE_ID, stable_id
from ovtui.api.ovirt.xml import entity, link, rel_links, sub
from ovtui.model import VM, Cluster, DataCenter, Host, HostState, Nic, Snapshot, VmState

MIB = 1024 * 1024
# libvirt state -> oVirt VmStatus. ovtui's "suspend" pauses the guest in memory (oVirt's writes
# it to disk); both are `suspended` to tooling, and `start` resumes either.
VM_STATUS = {
    VmState.RUNNING: "up",
    VmState.BLOCKED: "up",  # running, waiting on a resource
    VmState.PAUSED: "suspended",
    VmState.PMSUSPENDED: "suspended",
    VmState.SHUTTING_DOWN: "powering_down",
    VmState.SHUTOFF: "down",
    VmState.CRASHED: "down",  # with stop_reason
    VmState.UNKNOWN: "unknown",
}
HOST_STATUS = {
    HostState.CONNECTING: "connecting",
    HostState.UP: "up",
    HostState.MAINTENANCE: "maintenance",
    HostState.NON_RESPONSIVE: "non_responsive",
    HostState.NON_OPERATIONAL: "non_operational",
    HostState.DOWN: "down",
}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def host_id(name: str) -> str:
    return stable_id("host", name)


def cluster_id(name: str) -> str:
    return stable_id("cluster", name)


def dc_id(name: str) -> str:
    return stable_id("datacenter", name)


def vm_status(vm: VM, transitional: str | None) -> str:
    return transitional or VM_STATUS[vm.state]


def template_id(name: str) -> str:
    """Blank keeps oVirt's own ID; ovtui's templates (keyed by name) one derived from it."""
    return BLANK_TEMPLATE_ID if name == "Blank" else stable_id("template", name)


def vm_xml(vm: VM, status: str, created: float, template: str = "Blank") -> ET.Element:
    el = entity("vm", "vms", vm.uuid)
    sub(el, "name", vm.name)
    sub(el, "description", vm.role and f"role: {vm.role}")
    sub(el, "status", status)
    if vm.state == VmState.CRASHED:
        sub(el, "stop_reason", "crashed")
    sub(el, "memory", vm.memory_mib * MIB)
    policy = sub(el, "memory_policy")
    sub(policy, "guaranteed", vm.memory_mib * MIB)
    sub(policy, "max", vm.memory_mib * MIB)
    cpu = sub(el, "cpu")
    topology = sub(cpu, "topology")
    for tag, n in (("sockets", vm.vcpus), ("cores", 1), ("threads", 1)):
        sub(topology, tag, n)
    sub(el, "type", "server")
    sub(sub(el, "os"), "type", "other")
    sub(el, "origin", "ovirt")
    sub(el, "stateless", False)
    sub(el, "delete_protected", False)
    sub(el, "creation_time", iso(created))
    ha = sub(el, "high_availability")
    sub(ha, "enabled", vm.highly_available)
    sub(ha, "priority", 1 if vm.highly_available else 0)
    placement = sub(el, "placement_policy")
    affinity = "pinned" if vm.pinned else "migratable" if vm.migratable else "user_migratable"
    sub(placement, "affinity", affinity)
    # ovtui keeps no list of preferred hosts: the placement shows where the VM is placed.
    if vm.host and (vm.active or vm.pinned):
        link(sub(placement, "hosts"), "host", "hosts", host_id(vm.host))
    if vm.active and vm.host:
        link(el, "host", "hosts", host_id(vm.host))
    link(el, "cluster", "clusters", cluster_id(vm.cluster))
    link(el, "template", "templates", template_id(template))
    rel_links(el, f"vms/{vm.uuid}", "nics", "diskattachments", *VM_SUBCOLLECTIONS)
    return el


# Sub-collections tooling reads (ovirt_vm, the inventory plugin), answered empty because ovtui
# has none of these for a VM: no vNUMA topology is read, no guest agent reports devices, ovtui
# has no tags or affinity labels, and statistics live in the native API and Prometheus. Others
# (snapshots, permissions...) are a 404 fault: outside this subset. `nics` is served from the
# domain XML (routes_reads.vm_nics), `diskattachments` from the storage layer (routes_storage).
VM_SUBCOLLECTIONS = {
    "numanodes": "vm_numa_nodes",
    "reporteddevices": "reported_devices",
    "tags": "tags",
    "statistics": "statistics",
    "affinitylabels": "affinity_labels",
}


NIC_MODELS = {"virtio", "e1000", "e1000e", "rtl8139"}  # oVirt's NicInterface values we can name


def nic_id(vm_uuid: str, mac: str) -> str:
    return stable_id("nic", f"{vm_uuid}/{mac}")


def nic_xml(vm: VM, nic: Nic, index: int) -> ET.Element:
    """A VM's interface from its domain XML. ovtui has no vNIC profiles: none is linked."""
    el = entity("nic", f"vms/{vm.uuid}/nics", nic_id(vm.uuid, nic.mac))
    sub(el, "name", f"nic{index}")  # libvirt interfaces have no name; oVirt's default names
    if nic.model in NIC_MODELS:
        sub(el, "interface", nic.model)
    sub(sub(el, "mac"), "address", nic.mac)
    sub(el, "plugged", True)
    sub(el, "linked", True)
    link(el, "vm", "vms", vm.uuid)
    return el


def host_xml(host: Host, snap: Snapshot, status: str, migrating: int = 0) -> ET.Element:
    ident = host_id(host.name)
    el = entity("host", "hosts", ident)
    sub(el, "name", host.name)
    sub(el, "comment", "")
    sub(el, "address", urlsplit(host.uri).hostname or "localhost")
    sub(el, "status", status)
    if host.state_reason:
        sub(el, "status_detail", host.state_reason)
    sub(el, "type", "rhel")
    sub(el, "memory", host.memory_mib * MIB)
    sub(el, "max_scheduling_memory", max(host.memory_mib - host.memory_used_mib, 0) * MIB)
    cpu = sub(el, "cpu")
    sub(cpu, "name", host.cpu_model)
    topology = sub(cpu, "topology")
    for tag, n in (("sockets", 1), ("cores", host.cpus), ("threads", 1)):
        sub(topology, tag, n)
    pm = sub(el, "power_management")
    sub(pm, "enabled", host.power_management)
    sub(pm, "kdump_detection", False)
    sub(pm, "automatic_pm_enabled", False)
    spm = sub(el, "spm")  # ovtui has no storage pool manager
    sub(spm, "priority", 0)
    sub(spm, "status", "none")
    os = sub(el, "os")
    sub(os, "type", "other")
    sub(os, "custom_kernel_cmdline", "")
    vms = snap.vms_on(host.name)
    summary = sub(el, "summary")
    sub(summary, "active", sum(1 for v in vms if v.active))
    sub(summary, "migrating", migrating)
    sub(summary, "total", len(vms))
    sub(el, "update_available", False)
    sub(el, "external_status", "ok")
    link(el, "cluster", "clusters", cluster_id(host.cluster))
    rel_links(el, f"hosts/{ident}", *HOST_SUBCOLLECTIONS)
    return el


HOST_SUBCOLLECTIONS = {"tags": "tags", "affinitylabels": "affinity_labels"}


def affinity_group_id(cluster: str, name: str, positive: bool) -> str:
    return stable_id("affinitygroup", f"{cluster}/{name}/{positive}")


def affinity_group_xml(cluster: str, name: str, positive: bool) -> ET.Element:
    """ovtui's affinity_group (positive) and anti_affinity_group (negative) of VMs, by cluster."""
    ident = affinity_group_id(cluster, name, positive)
    el = entity("affinity_group", f"clusters/{cluster_id(cluster)}/affinitygroups", ident)
    sub(el, "name", name)
    sub(el, "positive", positive)
    sub(el, "enforcing", False)  # ovtui's balancer weighs them; it does not refuse a placement
    link(el, "cluster", "clusters", cluster_id(cluster))
    rel_links(el, f"clusters/{cluster_id(cluster)}/affinitygroups/{ident}", "vms")
    return el


def cluster_xml(cluster: Cluster) -> ET.Element:
    ident = cluster_id(cluster.name)
    el = entity("cluster", "clusters", ident)
    sub(el, "name", cluster.name)
    sub(el, "description", "")
    cpu = sub(el, "cpu")
    sub(cpu, "type", cluster.cpu_model)
    sub(cpu, "architecture", "x86_64")
    sub(el, "memory_policy").append(_overcommit(cluster.memory_overcommit_percent))
    ha = sub(el, "error_handling")
    sub(ha, "on_error", {"migrate": "migrate"}.get(cluster.resiliency, "do_not_migrate"))
    sub(el, "virt_service", True)
    sub(el, "gluster_service", False)
    version = sub(el, "version")
    sub(version, "major", 4)
    sub(version, "minor", 7)
    link(el, "data_center", "datacenters", dc_id(cluster.datacenter))
    rel_links(el, f"clusters/{ident}", *CLUSTER_SUBCOLLECTIONS)
    return el


CLUSTER_SUBCOLLECTIONS = {"affinitygroups": "affinity_groups"}  # see routes_reads


def _overcommit(percent: int) -> ET.Element:
    el = ET.Element("over_commit")
    sub(el, "percent", percent)
    return el


def datacenter_xml(dc: DataCenter) -> ET.Element:
    ident = dc_id(dc.name)
    el = entity("data_center", "datacenters", ident)
    sub(el, "name", dc.name)
    sub(el, "description", dc.description)
    sub(el, "local", False)
    sub(el, "status", "up")
    version = sub(el, "version")
    sub(version, "major", 4)
    sub(version, "minor", 7)
    rel_links(el, f"datacenters/{ident}", "clusters", "storagedomains")
    return el


def template_xml(t: dict[str, Any]) -> ET.Element:
    """An ovtui template (provision/templates.py): a shut-off VM's definition and disk copies."""
    if t["name"] == "Blank":
        return blank_template_xml()
    el = entity("template", "templates", template_id(t["name"]))
    sub(el, "name", t["name"])
    sub(el, "description", t["description"])
    sub(el, "comment", f"made from {t['source_vm']} by {t['created_by']}")
    sub(el, "status", "ok")
    sub(el, "type", "server")
    sub(sub(el, "os"), "type", "other")
    sub(el, "creation_time", iso(t["created_at"]))
    version = sub(el, "version")
    sub(version, "version_number", 1)
    sub(version, "version_name", "base version")
    return el


def blank_template_xml() -> ET.Element:
    """oVirt's `Blank`: VMs that ovtui did not create from a template point at it, as in oVirt."""
    el = entity("template", "templates", BLANK_TEMPLATE_ID)
    sub(el, "name", "Blank")
    sub(el, "description", "Blank template")
    sub(el, "status", "ok")
    sub(el, "type", "server")
    sub(sub(el, "os"), "type", "other")
    version = sub(el, "version")
    sub(version, "version_number", 1)
    sub(version, "version_name", "base version")
    return el
