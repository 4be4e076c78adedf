"""Reading one host: blocking libvirt calls, run on that host's threads, never on the event loop.

A VM that vanishes between listing and reading is skipped, not reported as an error.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import libvirt

from ovtui.fleet.errors import is_no_domain, is_unsupported
from ovtui.model import VmState

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
class DomainReading:
    uuid: str
    name: str
    state: VmState
    vcpus: int
    memory_mib: int
    cpu_time_ns: int
    persistent: bool
    meta: VmMeta


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


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def parse_meta(xml: str) -> VmMeta:
    el = ET.fromstring(xml)
    return VmMeta(
        highly_available=_truthy(el.get("ha")),
        pinned=_truthy(el.get("pinned")),
        migratable=el.get("migratable", "true").strip().lower() not in {"0", "false", "no"},
        role=el.get("role", ""),
        affinity_group=el.get("affinity", ""),
        anti_affinity_group=el.get("anti_affinity", ""),
    )


def read_meta(dom: libvirt.virDomain) -> VmMeta:
    try:
        return parse_meta(dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, METADATA_NS))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return VmMeta()
        raise


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


def read_domain(dom: libvirt.virDomain, meta_cache: dict[str, VmMeta]) -> DomainReading | None:
    try:
        uuid = dom.UUIDString()
        state, max_kib, _cur_kib, vcpus, cpu_time = dom.info()
        meta = meta_cache.get(uuid)
        if meta is None:
            meta = meta_cache[uuid] = read_meta(dom)
        return DomainReading(
            uuid=uuid,
            name=dom.name(),
            state=vm_state(state),
            vcpus=vcpus,
            memory_mib=max_kib // 1024,
            cpu_time_ns=cpu_time,
            persistent=bool(dom.isPersistent()),
            meta=meta,
        )
    except libvirt.libvirtError as exc:
        if is_no_domain(exc) or is_unsupported(exc):
            return None  # vanished mid-listing (or undefined under us): not an error
        raise


def read_host(
    conn: libvirt.virConnect, meta_cache: dict[str, VmMeta], node: NodeInfo | None = None
) -> HostReading:
    node = node or read_node(conn)
    domains = tuple(
        d for d in (read_domain(dom, meta_cache) for dom in conn.listAllDomains()) if d is not None
    )
    return HostReading(time.monotonic(), time.time(), node, domains)
