"""Reading one host: blocking libvirt calls, run on that host's threads, never on the event loop.

A VM that vanishes between listing and reading is skipped, not reported as an error.

What changes only when a VM is (re)defined, started or stopped — its <metadata> flags, disks and
NICs — comes from one XMLDesc per VM, read once and cached (VmConfig); a poll then costs
listAllDomains plus dom.info() per VM and nothing more (bench/core_figures.py: 500 hosts x 40
VMs). The fleet drops a VM's cached config on its lifecycle events (ovtui.fleet.fleet).
Fetching the XML lazily for GET /api/v1/vms/{vm} instead would put a libvirt round trip (and a
hung host's timeout) into an API read, and the same XML is needed for the flags anyway.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field

import libvirt

from ovtui.fleet.bridges import BridgeReading, read_networks
from ovtui.fleet.errors import is_no_domain, is_unsupported
from ovtui.model import ACTIVE_VM_STATES, Disk, Nic, VmDevices, VmState

METADATA_NS = "https://ovtui.example/xmlns/vm/1"

_STATES = {
    libvirt.VIR_DOMAIN_NOSTATE: VmState.UNKNOWN,
    libvirt.VIR_DOMAIN_RUNNING: VmState.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: VmState.BLOCKED,
    libvirt.VIR_DOMAIN_PAUSED: VmState.PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: VmState.SHUTTING_DOWN,
    libvirt.VIR_DOMAIN_SHUTOFF: VmState.SHUTOFF,
    libvirt.VIR_DOMAIN_CRASHED: VmState.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: VmState.PMSUSPENDED,
}


def vm_state(code: int) -> VmState:
    return _STATES.get(code, VmState.UNKNOWN)


@dataclass(frozen=True, slots=True)
class VmMeta:
    """Operator flags carried in the domain's <metadata> (ovtui namespace)."""

    highly_available: bool = False
    pinned: bool = False
    migratable: bool = True
    role: str = ""
    affinity_group: str = ""
    anti_affinity_group: str = ""


@dataclass(frozen=True, slots=True)
class VmConfig:
    """What one XMLDesc tells: the operator flags and the devices (cached per VM)."""

    meta: VmMeta
    devices: VmDevices


@dataclass(frozen=True, slots=True)
class DomainReading:
    uuid: str
    name: str
    state: VmState
    vcpus: int
    memory_mib: int
    cpu_time_ns: int
    persistent: bool
    meta: VmMeta
    devices: VmDevices = field(default_factory=VmDevices)
    memory_current_mib: int = 0


@dataclass(frozen=True, slots=True)
class NodeInfo:
    cpu_model: str
    cpus: int
    memory_mib: int


@dataclass(frozen=True, slots=True)
class HostReading:
    monotonic: float
    wall: float
    node: NodeInfo
    domains: tuple[DomainReading, ...]
    networks: Mapping[str, BridgeReading] = field(default_factory=dict)  # by network name


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def parse_meta(xml: str) -> VmMeta:
    return _meta_of(ET.fromstring(xml))


def _meta_of(el: ET.Element) -> VmMeta:
    return VmMeta(
        highly_available=_truthy(el.get("ha")),
        pinned=_truthy(el.get("pinned")),
        migratable=el.get("migratable", "true").strip().lower() not in {"0", "false", "no"},
        role=el.get("role", ""),
        affinity_group=el.get("affinity", ""),
        anti_affinity_group=el.get("anti_affinity", ""),
    )


def _disk(el: ET.Element) -> Disk:
    kind = el.get("type", "")
    src = el.find("source")
    source = ""
    if src is not None:
        if kind == "volume":
            source = f"{src.get('pool', '')}/{src.get('volume', '')}"
        elif kind == "network":
            source = f"{src.get('protocol', '')}:{src.get('name', '')}"
        else:  # file, block, dir
            source = src.get("file") or src.get("dev") or src.get("dir") or ""
    target = el.find("target")
    return Disk(
        target=target.get("dev", "") if target is not None else "",
        device=el.get("device", "disk"),
        bus=target.get("bus", "") if target is not None else "",
        source_type=kind if source else "",
        source=source,
    )


def _nic(el: ET.Element, active: bool) -> Nic:
    kind = el.get("type", "")
    src = el.find("source")
    source = ""
    if src is not None:
        source = src.get("network") or src.get("bridge") or src.get("dev") or ""
    target = el.find("target")
    model = el.find("model")
    mac = el.find("mac")
    link = el.find("link")
    return Nic(
        mac=mac.get("address", "") if mac is not None else "",
        type=kind,
        source=source,
        model=model.get("type", "") if model is not None else "",
        # The host-side device exists only while the VM runs (libvirt's test driver names one
        # even for a stopped VM: not shown then).
        target=target.get("dev", "") if (active and target is not None) else "",
        link=link.get("state", "up") if link is not None else "up",
    )


def parse_config(xml: str, *, active: bool) -> VmConfig:
    """Flags and devices from a domain XML (XMLDesc); `active`: the VM holds host resources."""
    dom = ET.fromstring(xml)
    meta_el = dom.find(f"metadata/{{{METADATA_NS}}}vm")
    meta = VmMeta() if meta_el is None else _meta_of(meta_el)
    devices = dom.find("devices")
    disks = tuple(_disk(d) for d in devices.iterfind("disk")) if devices is not None else ()
    nics = (
        tuple(_nic(n, active) for n in devices.iterfind("interface")) if devices is not None else ()
    )
    return VmConfig(meta, VmDevices(disks, nics))


def read_node(conn: libvirt.virConnect) -> NodeInfo:
    info = conn.getInfo()  # [model, memory MiB, cpus, mhz, nodes, sockets, cores, threads]
    model = ET.fromstring(conn.getCapabilities()).findtext("host/cpu/model") or info[0]
    memory_mib = info[1]
    try:
        # getInfo() reads NUMA node 0 only on some hosts (notes/LAB.md); this covers all cells.
        memory_mib = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)["total"] // 1024
    except (libvirt.libvirtError, KeyError):
        pass
    return NodeInfo(cpu_model=model, cpus=info[2], memory_mib=memory_mib)


def read_domain(
    dom: libvirt.virDomain,
    cache: Mapping[str, VmConfig],
    fresh: dict[str, VmConfig] | None = None,
) -> DomainReading | None:
    """`cache` is only read here (the fleet owns it, on the event loop); a config read now is
    put into `fresh`, for the fleet to cache unless an event made it stale meanwhile."""
    try:
        uuid = dom.UUIDString()
        code, max_kib, cur_kib, vcpus, cpu_time = dom.info()
        state = vm_state(code)
        config = cache.get(uuid)
        if config is None:
            config = parse_config(dom.XMLDesc(0), active=state in ACTIVE_VM_STATES)
            if fresh is not None:
                fresh[uuid] = config
        return DomainReading(
            uuid=uuid,
            name=dom.name(),
            state=state,
            vcpus=vcpus,
            memory_mib=max_kib // 1024,
            cpu_time_ns=cpu_time,
            persistent=bool(dom.isPersistent()),
            meta=config.meta,
            devices=config.devices,
            memory_current_mib=cur_kib // 1024,
        )
    except libvirt.libvirtError as exc:
        if is_no_domain(exc) or is_unsupported(exc):
            return None  # vanished mid-listing (or undefined under us): not an error
        raise


def read_host(
    conn: libvirt.virConnect,
    cache: Mapping[str, VmConfig],
    node: NodeInfo | None = None,
    fresh: dict[str, VmConfig] | None = None,
    networks: tuple[tuple[str, str], ...] = (),
) -> HostReading:
    """`networks`: (name, bridge) of the logical networks of the host's cluster, checked in
    this call."""
    node = node or read_node(conn)
    domains = tuple(
        d
        for d in (read_domain(dom, cache, fresh) for dom in conn.listAllDomains())
        if d is not None
    )
    found = read_networks(conn, networks) if networks else {}
    return HostReading(time.monotonic(), time.time(), node, domains, found)
