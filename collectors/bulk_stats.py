"""One host's statistics in a handful of libvirt calls: a blocking function for the host's threads.

Domains come from one bulk ``getAllDomainStats`` call with
``VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT`` (a domain whose job lock is held reports what it can
without waiting, instead of stalling the whole call); drivers that refuse the flag are asked again
without it, and drivers without bulk statistics give no domain records at all. Node CPU, memory
and KSM counters are optional calls: a driver that lacks one is remembered and not asked again.

libvirt's test driver fakes node CPU counters with constants, so they are never read there.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import libvirt

#: The statistics groups the exporter turns into metrics (nothing else is asked for).
DOMAIN_STATS = (
    libvirt.VIR_DOMAIN_STATS_STATE
    | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
    | libvirt.VIR_DOMAIN_STATS_BALLOON
    | libvirt.VIR_DOMAIN_STATS_VCPU
    | libvirt.VIR_DOMAIN_STATS_INTERFACE
    | libvirt.VIR_DOMAIN_STATS_BLOCK
)
NOWAIT = libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT
_REFUSED = {
    libvirt.VIR_ERR_NO_SUPPORT,
    libvirt.VIR_ERR_OPERATION_UNSUPPORTED,
    libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED,
    libvirt.VIR_ERR_INVALID_ARG,  # "unsupported flags (0x20000000)" on libvirt < 4.5
}

# Names of the optional calls (also the `call` label of ovtui_libvirt_call_errors_total).
BULK, NODE_CPU, NODE_MEMORY, KSM = "getAllDomainStats", "getCPUStats", "getMemoryStats", "ksm"
# The engine's inventory poll (ovtui.fleet.fleet) counts its failed calls under these names.
POLL_NODE, POLL_DOMAINS = "getInfo", "listAllDomains"


@dataclass(frozen=True, slots=True)
class DomainStats:
    uuid: str  # the only thing asked of the domain handle (series are keyed by it)
    values: Mapping[str, Any]  # libvirt's flat record: "state.state", "balloon.rss", ...


@dataclass(frozen=True, slots=True)
class HostStats:
    monotonic: float
    wall: float
    domains: tuple[DomainStats, ...]
    node_cpu_ns: Mapping[str, int] | None = None  # kernel, user, idle, iowait
    node_memory_kib: Mapping[str, int] | None = None  # total, free, buffers, cached
    ksm: Mapping[str, int] | None = None  # shm_pages_shared, shm_pages_sharing, ...
    nowait: bool = True  # whether the bulk call ran with NOWAIT
    unsupported: frozenset[str] = frozenset()  # calls this driver refused (skip them next time)
    errors: tuple[tuple[str, str], ...] = field(default=())  # (call, message) of optional calls


def _refused(exc: libvirt.libvirtError) -> bool:
    return exc.get_error_code() in _REFUSED


def _bulk(
    conn: libvirt.virConnect, nowait: bool
) -> tuple[list[tuple[libvirt.virDomain, dict[str, Any]]], bool]:
    if nowait:
        try:
            return conn.getAllDomainStats(DOMAIN_STATS, NOWAIT), True
        except libvirt.libvirtError as exc:
            if not _refused(exc):
                raise
    return conn.getAllDomainStats(DOMAIN_STATS, 0), False


def read_host_stats(
    conn: libvirt.virConnect,
    *,
    nowait: bool = True,
    skip: frozenset[str] = frozenset(),
    driver: str = "",
) -> HostStats:
    """Reads every domain's statistics and the node counters. Raises on a failed bulk call.

    `nowait` False: the driver refused NOWAIT before; `skip`: calls it refused before.
    """
    began_wall = time.time()
    unsupported, errors = set(skip), []
    domains: tuple[DomainStats, ...] = ()
    if BULK not in skip:
        try:
            records, nowait = _bulk(conn, nowait)
            # One getter per domain, not two: each libvirt call lets go of the GIL, and a host
            # thread of a 500-host cold scrape waits for it again behind ~500 others (the name
            # was never exported: VM series carry the UUID, ovtui_vm_info the snapshot's name).
            domains = tuple(DomainStats(d.UUIDString(), v) for d, v in records)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() not in (libvirt.VIR_ERR_NO_SUPPORT,):
                raise
            unsupported.add(BULK)
    optional: dict[str, Any] = {NODE_CPU: None, NODE_MEMORY: None, KSM: None}
    if driver.upper() == "TEST":
        unsupported.add(NODE_CPU)  # constants, not measurements
    calls = {
        NODE_CPU: lambda: conn.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS, 0),
        NODE_MEMORY: lambda: conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0),
        KSM: lambda: conn.getMemoryParameters(0),
    }
    for name, call in calls.items():
        if name in unsupported:
            continue
        try:
            optional[name] = dict(call())
        except libvirt.libvirtError as exc:
            if _refused(exc):
                unsupported.add(name)
            else:
                errors.append((name, exc.get_error_message() or str(exc)))
    return HostStats(
        monotonic=time.monotonic(),
        wall=began_wall,
        domains=domains,
        node_cpu_ns=optional[NODE_CPU],
        node_memory_kib=optional[NODE_MEMORY],
        ksm=optional[KSM] or None,
        nowait=nowait,
        unsupported=frozenset(unsupported),
        errors=tuple(errors),
    )
