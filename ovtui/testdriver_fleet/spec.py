"""Fleet description for the libvirt test-driver fleet: plain, immutable data.

A :class:`FleetSpec` says which data centers, clusters, hosts and VMs exist; ``node_xml`` turns
a host into a test-driver node file and ``write_fleet`` writes a whole fleet plus an engine
config. Nothing here talks to libvirt.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

#: Namespace of the per-VM ``<metadata>`` element the engine reads.
VM_METADATA_NS = "https://ovtui.example/xmlns/vm/1"
#: Fixed namespace for VM UUIDs: uuid5(VM_UUID_NAMESPACE, vm_name). Never change it, or every
#: generated VM gets a new identity.
VM_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, VM_METADATA_NS)

POLICIES = ("none", "evenly_distributed", "power_saving")
MODES = ("off", "recommend", "automatic")
RESILIENCY = ("migrate", "migrate_ha_only", "none")

ParamValue = int | float | str | bool


def vm_uuid(vm_name: str) -> str:
    """The stable UUID of a VM: it depends on the name only, never on the host."""
    return str(uuid.uuid5(VM_UUID_NAMESPACE, vm_name))


@dataclass(frozen=True)
class VmSpec:
    name: str
    vcpus: int
    memory_mib: int
    role: str
    running: bool = True
    ha: bool = False
    pinned: bool = False
    migratable: bool = True
    affinity: str = ""
    anti_affinity: str = ""

    @property
    def uuid(self) -> str:
        return vm_uuid(self.name)


@dataclass(frozen=True)
class HostSpec:
    name: str
    cluster: str
    cpus: int
    memory_mib: int
    cpu_model: str
    mhz: int
    vms: tuple[VmSpec, ...] = ()


@dataclass(frozen=True)
class DatacenterSpec:
    name: str
    description: str = ""


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    datacenter: str
    cpu_model: str
    memory_overcommit_percent: int = 150
    policy: str = "evenly_distributed"
    mode: str = "recommend"
    resiliency: str = "migrate"
    params: Mapping[str, ParamValue] = field(default_factory=dict)


@dataclass(frozen=True)
class FleetSpec:
    datacenters: tuple[DatacenterSpec, ...]
    clusters: tuple[ClusterSpec, ...]
    hosts: tuple[HostSpec, ...]

    def vms(self) -> list[tuple[HostSpec, VmSpec]]:
        return [(host, vm) for host in self.hosts for vm in host.vms]

    def cluster(self, name: str) -> ClusterSpec:
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        raise KeyError(name)


def _dupes(names: list[str]) -> list[str]:
    return sorted(name for name, count in Counter(names).items() if count > 1)


def validate(spec: FleetSpec) -> list[str]:
    """Every inconsistency in a spec, as one readable line each (empty when the spec is sound).

    Checked: unique names, references, CPU models, policy values, sizes, that the VMs of each host
    (running or not) fit its memory within the cluster's over-commit, and that VMs sharing an
    anti-affinity group sit on different hosts.
    """
    problems: list[str] = []
    for kind, names in (
        ("data center", [dc.name for dc in spec.datacenters]),
        ("cluster", [c.name for c in spec.clusters]),
        ("host", [h.name for h in spec.hosts]),
        ("VM", [vm.name for _, vm in spec.vms()]),
    ):
        problems += [f"duplicate {kind} name {name!r}" for name in _dupes(names)]
    dcs = {dc.name for dc in spec.datacenters}
    clusters = {c.name: c for c in spec.clusters}
    for c in spec.clusters:
        if c.datacenter not in dcs:
            problems.append(f"cluster {c.name!r}: unknown data center {c.datacenter!r}")
        if c.policy not in POLICIES:
            problems.append(f"cluster {c.name!r}: policy {c.policy!r} not in {POLICIES}")
        if c.mode not in MODES:
            problems.append(f"cluster {c.name!r}: mode {c.mode!r} not in {MODES}")
        if c.resiliency not in RESILIENCY:
            problems.append(f"cluster {c.name!r}: resiliency {c.resiliency!r} not in {RESILIENCY}")
        if c.memory_overcommit_percent < 100:
            problems.append(f"cluster {c.name!r}: memory_overcommit_percent below 100")
    anti: dict[str, list[str]] = {}
    for host in spec.hosts:
        cluster = clusters.get(host.cluster)
        if cluster is None:
            problems.append(f"host {host.name!r}: unknown cluster {host.cluster!r}")
            continue
        if host.cpu_model != cluster.cpu_model:
            problems.append(
                f"host {host.name!r}: CPU model {host.cpu_model!r} differs from cluster "
                f"{cluster.name!r} ({cluster.cpu_model!r})"
            )
        if host.cpus < 1 or host.memory_mib < 1 or host.mhz < 1:
            problems.append(f"host {host.name!r}: cpus, memory_mib and mhz must be positive")
        limit = host.memory_mib * cluster.memory_overcommit_percent // 100
        used = sum(vm.memory_mib for vm in host.vms)
        if used > limit:
            problems.append(
                f"host {host.name!r}: VMs need {used} MiB, more than {limit} MiB "
                f"({cluster.memory_overcommit_percent}% of {host.memory_mib} MiB)"
            )
        for vm in host.vms:
            if vm.vcpus < 1 or vm.memory_mib < 1:
                problems.append(f"VM {vm.name!r}: vcpus and memory_mib must be positive")
            if vm.memory_mib > host.memory_mib:
                problems.append(f"VM {vm.name!r}: larger than host {host.name!r}")
            if vm.anti_affinity:
                anti.setdefault(vm.anti_affinity, []).append(host.name)
    for group, hosts in sorted(anti.items()):
        problems += [f"anti-affinity group {group!r}: two VMs on {h!r}" for h in _dupes(hosts)]
    return problems
