"""Reading one host: blocking libvirt calls, run on that host's threads, never on the event loop.

A VM that vanishes between listing and reading is skipped, not reported as an error.

What changes only when a VM is (re)defined, started or stopped — its <metadata> flags, disks,
NICs, vCPUs and memory — comes from one XMLDesc per VM, read once and cached (VmConfig). A poll
costs two round trips however many VMs the host runs: getAllDomainStats for the states (and
cpu.time where the load is measured) and listAllDomains(TRANSIENT) for persistence (the node
facts once per connection). A VM not in the cache is reported with `config_pending` set and
its handle kept in HostReading.unread; the fleet reads those configs apart from the poll, a few
VMs per call (read_configs), so the first view of a 500 x 40 fleet does not wait behind 20 000
XMLDesc round trips (bench/core_figures.py). It used to be listAllDomains plus dom.info() and
isPersistent() per VM: 40 001 round trips per poll of a 500 x 40 fleet. The fleet drops a VM's
cached config on its lifecycle and balloon-change events (ovtui.fleet.fleet), which is when
libvirt itself changes what dom.info() would report (current memory is libvirt's balloon
figure, updated on the same event). Fetching the XML for GET /api/v1/vms/{vm} instead would put
a libvirt round trip (and a hung host's timeout) into an API read, and the same XML is needed
for the flags anyway.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field, replace

import libvirt

from ovtui.fleet.bridges import BridgeReading, read_networks
from ovtui.fleet.domain_handle import DomainHandle
from ovtui.fleet.errors import is_no_domain, is_unsupported
from ovtui.model import Disk, Nic, VmDevices, VmState

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
    """What one XMLDesc tells: the operator flags, the devices and the sizes (cached per VM)."""

    meta: VmMeta
    devices: VmDevices
    vcpus: int = 0  # current vCPUs (dom.info()'s count)
    memory_mib: int = 0  # maximum memory
    memory_current_mib: int = 0  # what the balloon leaves the guest now


# What one VM's reading is made of, as read_host sees it: (name, state code, cpu.time,
# persistent, cached config or None). Equal keys make equal readings (see _polled).
PollKey = tuple[str, int, int, bool, VmConfig | None]


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
    devices: VmDevices | None = field(default_factory=VmDevices)  # None: config pending
    memory_current_mib: int = 0
    # The domain XML has not been read yet: vcpus, memory, meta and devices are not known
    # (0, defaults and None stand in for them until it is).
    config_pending: bool = False


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
    # uuid -> handle of each VM whose config is to be read (pending or stale), for
    # read_configs; wrapped so that the event loop never frees one (domain_handle.py).
    unread: Mapping[str, DomainHandle] = field(default_factory=dict, compare=False)
    # uuid -> (what read_host built the VM's reading from, that reading): the next poll reuses
    # the reading of a VM whose key is equal. Kept apart from `domains`, which with_configs
    # fills in: a key stays paired only with the reading it made.
    polled: Mapping[str, tuple[PollKey, DomainReading]] = field(
        default_factory=dict, compare=False, repr=False
    )


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


_UNITS = {"b": 1, "bytes": 1, "k": 1024, "kib": 1024, "kb": 1000, "m": 2**20, "mib": 2**20,
          "mb": 10**6, "g": 2**30, "gib": 2**30, "gb": 10**9, "t": 2**40, "tib": 2**40}  # fmt: skip


def _mib(el: ET.Element | None) -> int:
    """A libvirt memory element (`unit`, KiB by default) in MiB; 0 when absent."""
    if el is None or not (el.text or "").strip():
        return 0
    unit = _UNITS.get(el.get("unit", "KiB").lower(), 1024)
    return int(el.text or 0) * unit // 2**20


def _vcpus(dom: ET.Element) -> int:
    el = dom.find("vcpu")
    if el is None:
        return 0
    return int(el.get("current") or el.text or 0)


def parse_config(xml: str, *, active: bool | None = None) -> VmConfig:
    """Flags, devices and sizes from a domain XML (XMLDesc); `active`: it holds host resources,
    None: as the XML itself says (a live domain's carries its `id`)."""
    dom = ET.fromstring(xml)
    if active is None:
        active = dom.get("id", "-1") != "-1"
    meta_el = dom.find(f"metadata/{{{METADATA_NS}}}vm")
    meta = VmMeta() if meta_el is None else _meta_of(meta_el)
    devices = dom.find("devices")
    disks = tuple(_disk(d) for d in devices.iterfind("disk")) if devices is not None else ()
    nics = (
        tuple(_nic(n, active) for n in devices.iterfind("interface")) if devices is not None else ()
    )
    memory = _mib(dom.find("memory"))
    current = _mib(dom.find("currentMemory")) or memory
    return VmConfig(meta, VmDevices(disks, nics), _vcpus(dom), memory, current)


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


POLL_STATE = libvirt.VIR_DOMAIN_STATS_STATE
POLL_CPU = libvirt.VIR_DOMAIN_STATS_CPU_TOTAL  # cpu.time: asked only where the load is measured


def _polled(
    dom: libvirt.virDomain,
    uuid: str,
    key: PollKey,
    stale: Set[str],
    unread: dict[str, DomainHandle],
    before: Mapping[str, DomainHandle],
    conn: libvirt.virConnect,
    kept: tuple[PollKey, DomainReading] | None,
) -> DomainReading:
    name, code, cpu_time_ns, persistent, config = key
    if config is None or uuid in stale:
        handle = before.get(uuid)
        unread[uuid] = (
            handle if handle is not None and handle.usable_on(conn) else DomainHandle(dom)
        )
    # An unchanged VM (most of them, most polls) keeps the reading object of the poll before:
    # building a frozen 11-field DataClass per VM per poll was most of a poll's CPU at 500 x 40.
    # Comparing the key costs a tuple compare (the config by identity first).
    if kept is not None and kept[0] == key:
        return kept[1]
    state = vm_state(code)
    if config is None:
        return DomainReading(
            uuid=uuid,
            name=name,
            state=state,
            vcpus=0,
            memory_mib=0,
            cpu_time_ns=cpu_time_ns,
            persistent=persistent,
            meta=VmMeta(),
            devices=None,
            config_pending=True,
        )
    return DomainReading(
        uuid=uuid,
        name=name,
        state=state,
        vcpus=config.vcpus,
        memory_mib=config.memory_mib,
        cpu_time_ns=cpu_time_ns,
        persistent=persistent,
        meta=config.meta,
        devices=config.devices,
        memory_current_mib=config.memory_current_mib,
    )


# The engine's own short-lived domains (ovtui.storage.move_helper: a paused copier of a shut-off
# VM's disk) are no VMs: nobody may start, migrate, restart or count them.
ENGINE_HELPER_PREFIX = "ovtui-copy-"


def read_host(
    conn: libvirt.virConnect,
    cache: Mapping[str, VmConfig],
    node: NodeInfo | None = None,
    stale: Set[str] = frozenset(),
    networks: tuple[tuple[str, str], ...] = (),
    *,
    cpu_time: bool = True,
    unread_before: Mapping[str, DomainHandle] | None = None,
    previous: HostReading | None = None,
) -> HostReading:
    """Every VM of the host in two round trips; VMs not in `cache` come back config_pending.
    Those and the ones in `stale` (shown as cached) are in `unread`, to be read again; one
    already in `unread_before` (the host's reading before) keeps that handle, so the fleet's
    loop drops no handle when this reading replaces that one. A VM whose raw figures and
    cached config are those of `previous` (the host's reading before) keeps its reading object.

    `cpu_time` False (synthetic load): cpu.time is not asked for and reads as 0.
    `networks`: (name, bridge) of the logical networks of the host's cluster, checked in this
    call (a few round trips per network, none per VM: ovtui.fleet.bridges).
    """
    node = node or read_node(conn)
    # NOWAIT: a domain busy with a job (an incoming migration holds one for its whole length)
    # is reported without the stats that need one, instead of blocking the poll past its
    # timeout (which would make a migration's target host non_responsive).
    records = conn.getAllDomainStats(
        POLL_STATE | (POLL_CPU if cpu_time else 0),
        libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT,
    )
    listed = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)
    transient = {d.UUIDString() for d in listed}
    unread: dict[str, DomainHandle] = {}
    before = unread_before or {}
    prior = previous.polled if previous is not None else {}
    polled: dict[str, tuple[PollKey, DomainReading]] = {}
    found_domains: list[DomainReading] = []
    for dom, rec in records:
        try:
            name = dom.name()  # name and UUID travel with the domain: no round trip
            if name.startswith(ENGINE_HELPER_PREFIX):
                continue
            uuid = dom.UUIDString()
        except libvirt.libvirtError as exc:
            if is_no_domain(exc) or is_unsupported(exc):
                continue  # vanished since the listing (or undefined under us): not an error
            raise
        key: PollKey = (
            name,
            rec.get("state.state", libvirt.VIR_DOMAIN_NOSTATE),
            int(rec.get("cpu.time", -1)),  # -1: not reported this time
            uuid not in transient,
            cache.get(uuid),
        )
        d = _polled(dom, uuid, key, stale, unread, before, conn, prior.get(uuid))
        polled[uuid] = (key, d)
        found_domains.append(d)
    domains = tuple(found_domains)
    for uuid, handle in before.items():
        if unread.get(uuid) is not handle:
            # Not carried over (read meanwhile, vanished, or of an older connection): freed
            # here, not on the loop when the reading that held it is dropped.
            handle.release()
    found = read_networks(conn, networks) if networks else {}
    return HostReading(time.monotonic(), time.time(), node, domains, found, unread, polled)


def read_configs(
    todo: Sequence[tuple[str, DomainHandle]],
    gone: set[str] | None = None,
    conn: libvirt.virConnect | None = None,
) -> dict[str, VmConfig]:
    """One XMLDesc per (uuid, handle) of `todo`, on the host's worker thread; each
    handle read is released there. A VM that vanished is left out (and added to `gone`). A
    handle released by an earlier read (an event made that config stale while it was out) is
    looked up again on `conn` (one round trip), or, without `conn`, the VM is left out."""
    out: dict[str, VmConfig] = {}
    for uuid, handle in todo:
        try:
            dom = handle.dom
            if dom is None and conn is not None:
                dom = conn.lookupByUUIDString(uuid)
            if dom is None:
                continue
            # Running or not as the XML says, not as the reading did: a VM started since (a
            # cold move's define, then start) has its NIC's host device only in this XML.
            out[uuid] = parse_config(dom.XMLDesc(0))
        except libvirt.libvirtError as exc:
            if not (is_no_domain(exc) or is_unsupported(exc)):
                raise
            if gone is not None:
                gone.add(uuid)
        handle.release()
        dom = None  # the last reference, here on this thread
    return out


def with_configs(
    reading: HostReading, configs: Mapping[str, VmConfig], gone: Set[str] = frozenset()
) -> HostReading:
    """`reading` with the unread VMs whose config was just read (`configs`) filled in, and
    those in `gone` (they vanished before their XML was read) left out."""
    if not any(u in configs or u in gone for u in reading.unread):
        return reading
    unread_now = reading.unread
    domains = tuple(
        _filled(d, configs[d.uuid]) if d.uuid in configs and d.uuid in unread_now else d
        for d in reading.domains
        if not (d.uuid in gone and d.uuid in unread_now)
    )
    unread = {u: dom for u, dom in reading.unread.items() if u not in configs and u not in gone}
    return replace(reading, domains=domains, unread=unread)


def _filled(d: DomainReading, config: VmConfig) -> DomainReading:
    return replace(
        d,
        vcpus=config.vcpus,
        memory_mib=config.memory_mib,
        meta=config.meta,
        devices=config.devices,
        memory_current_mib=config.memory_current_mib,
        config_pending=False,
    )
