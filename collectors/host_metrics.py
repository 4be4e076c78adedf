"""Host metric families, written per host from the snapshot and the hosts' statistics.

Only `ovtui_host_info` carries cluster, datacenter, CPU model, load source and power management;
every other host series carries `host` alone (join on it). Capacity, commitment, VM counts and
the CPU utilisation gauge come from the fleet snapshot and exist for every host; counters read
from the host itself (node CPU seconds, memory used/free, KSM) exist only where the driver has
them — never on libvirt's test driver, whose load is synthetic (`load_source="synthetic"`).
Each family is a BlockFamily (collectors.host_blocks): its text for a host is kept between
scrapes and rebuilt when the inputs it `uses` change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from collectors.host_blocks import BlockFamily, HostInputs, labels, line
from ovtui.model import Host, HostState

MIB, KIB = 1024 * 1024, 1024
REACHABLE = frozenset({HostState.UP, HostState.MAINTENANCE, HostState.NON_OPERATIONAL})
POWER_STATES = ("on", "off", "unknown")
KSM_KEYS = {
    "shm_pages_shared": "ovtui_host_ksm_shared_pages",
    "shm_pages_sharing": "ovtui_host_ksm_sharing_pages",
    "shm_pages_unshared": "ovtui_host_ksm_unshared_pages",
    "shm_pages_volatile": "ovtui_host_ksm_volatile_pages",
}
#: Families read from the host itself: absent where the driver lacks them (the test driver).
MEASURED_ONLY = frozenset(
    {
        "ovtui_host_cpu_seconds_total",
        "ovtui_host_memory_free_bytes",
        "ovtui_host_memory_used_bytes",
        *KSM_KEYS.values(),
        "ovtui_host_ksm_full_scans_total",
    }
)


def power_state(host: Host) -> str:
    if host.state == HostState.DOWN:
        return "off"
    return "on" if host.state in REACHABLE else "unknown"


HOST, STATS, SCRAPE = frozenset({"host"}), frozenset({"stats"}), frozenset({"scrape"})
HOST_LOAD = frozenset({"host", "host_load"})


def _label(name: str) -> str:
    return labels(("host", name))


def _known(h: Host) -> bool:
    """Read at least once, or reachable: capacity and commitment are known (else: not zero)."""
    return h.last_seen is not None or h.state in REACHABLE


def _host_gauge(
    name: str,
    doc: str,
    get: Callable[[Host], float | None],
    *,
    known: bool = False,
    uses: frozenset[str] = HOST,
) -> BlockFamily:
    def lines(i: HostInputs) -> Iterator[str]:
        h = i.host
        if h is None or (known and not _known(h)):
            return
        v = get(h)
        if v is not None:
            yield line(name, _label(i.name), v)

    return BlockFamily(name, "gauge", doc, uses, lines)


def _info(i: HostInputs) -> Iterator[str]:
    h = i.host
    if h is not None:
        power = "enabled" if h.power_management else "none"
        text = labels(
            ("host", i.name),
            ("cluster", h.cluster),
            ("datacenter", h.datacenter),
            ("cpu_model", h.cpu_model),
            ("load_source", h.load_source.value),
            ("power_management", power),
        )
        yield line("ovtui_host_info", text, 1)


def _states(i: HostInputs) -> Iterator[str]:
    if i.host is not None:
        for s in HostState:
            text = labels(("host", i.name), ("state", s.value))
            yield line("ovtui_host_state", text, 1 if i.host.state == s else 0)


def _power(i: HostInputs) -> Iterator[str]:
    if i.host is not None:
        current = power_state(i.host)
        for p in POWER_STATES:
            text = labels(("host", i.name), ("state", p))
            yield line("ovtui_host_power_state", text, 1 if p == current else 0)


def _defined(i: HostInputs) -> Iterator[str]:
    if i.host is not None:
        yield line("ovtui_host_vms_defined", _label(i.name), i.defined)


SNAPSHOT_FAMILIES = (
    BlockFamily(
        "ovtui_host_info",
        "gauge",
        "Host facts to join on `host`; load_source=synthetic marks demo load, not measurements",
        HOST,
        _info,
    ),
    _host_gauge(
        "ovtui_host_up",
        "1 when the engine's libvirt connection to the host works",
        lambda h: 1 if h.state in REACHABLE else 0,
    ),
    BlockFamily(
        "ovtui_host_state", "gauge", "The host's state (1 for the current one)", HOST, _states
    ),
    _host_gauge(
        "ovtui_host_maintenance",
        "1 while the host is in maintenance",
        lambda h: 1 if h.maintenance else 0,
    ),
    BlockFamily(
        "ovtui_host_power_state", "gauge", "Power state (1 for the current one)", HOST, _power
    ),
    _host_gauge(
        "ovtui_host_cpus", "Logical CPUs of the host (capacity)", lambda h: h.cpus, known=True
    ),
    _host_gauge(
        "ovtui_host_cpu_utilisation_ratio",
        "Share of the host's CPUs busy with VMs, 0-1 (synthetic where load_source=synthetic)",
        lambda h: h.cpu_usage,
        uses=HOST_LOAD,
    ),
    _host_gauge(
        "ovtui_host_memory_total_bytes",
        "Memory of the host (capacity)",
        lambda h: h.memory_mib * MIB,
        known=True,
    ),
    _host_gauge(
        "ovtui_host_memory_committed_bytes",
        "Memory of the host's active VMs",
        lambda h: None if h.vms_config_pending else h.memory_used_mib * MIB,
        known=True,
    ),
    _host_gauge(
        "ovtui_host_vms_running",
        "VMs active on the host (running, paused, ...)",
        lambda h: h.vms_running,
        known=True,
    ),
    BlockFamily(
        "ovtui_host_vms_defined", "gauge", "VMs defined on the host, active or not", HOST, _defined
    ),
    _host_gauge(
        "ovtui_host_vcpus_committed",
        "vCPUs of the host's active VMs",
        lambda h: None if h.vms_config_pending else h.vcpus_committed,
        known=True,
    ),
    _host_gauge(
        "ovtui_host_vcpu_commitment_ratio",
        "Active vCPUs per host CPU",
        lambda h: h.vcpus_committed / h.cpus if h.cpus and not h.vms_config_pending else None,
        known=True,
    ),
    _host_gauge(
        "ovtui_host_memory_commitment_ratio",
        "Active VM memory per host memory",
        lambda h: (
            h.memory_used_mib / h.memory_mib if h.memory_mib and not h.vms_config_pending else None
        ),
        known=True,
    ),
    _host_gauge(
        "ovtui_host_last_seen_timestamp_seconds",
        "Unix time the host was last read",
        lambda h: h.last_seen,
        uses=HOST_LOAD,
    ),
)


def _node_cpu(i: HostInputs) -> Iterator[str]:
    for mode, ns in ((i.stats.node_cpu_ns if i.stats else None) or {}).items():
        yield line(
            "ovtui_host_cpu_seconds_total", labels(("host", i.name), ("mode", mode)), ns / 1e9
        )


def _memory(i: HostInputs, used: bool) -> Iterator[str]:
    mem = i.stats.node_memory_kib if i.stats else None
    if not mem or "free" not in mem:
        return
    if not used:
        yield line("ovtui_host_memory_free_bytes", _label(i.name), mem["free"] * KIB)
    elif "total" in mem:
        rest = mem["free"] + mem.get("buffers", 0) + mem.get("cached", 0)
        yield line(
            "ovtui_host_memory_used_bytes", _label(i.name), max(0, mem["total"] - rest) * KIB
        )


def _ksm(key: str, name: str) -> Callable[[HostInputs], Iterator[str]]:
    def lines(i: HostInputs) -> Iterator[str]:
        v = ((i.stats.ksm if i.stats else None) or {}).get(key)
        if v is not None:
            yield line(name, _label(i.name), v)

    return lines


MEASURED_FAMILIES = (
    BlockFamily(
        "ovtui_host_cpu_seconds_total",
        "counter",
        "CPU time of the host by mode (kernel, user, idle, iowait), read from libvirt",
        STATS,
        _node_cpu,
    ),
    BlockFamily(
        "ovtui_host_memory_free_bytes",
        "gauge",
        "Free memory of the host, all NUMA cells",
        STATS,
        lambda i: _memory(i, used=False),
    ),
    BlockFamily(
        "ovtui_host_memory_used_bytes",
        "gauge",
        "Memory in use on the host: total - free - buffers - cached, all NUMA cells",
        STATS,
        lambda i: _memory(i, used=True),
    ),
    *(
        BlockFamily(name, "gauge", f"KSM {key.removeprefix('shm_')}", STATS, _ksm(key, name))
        for key, name in KSM_KEYS.items()
    ),
    BlockFamily(
        "ovtui_host_ksm_full_scans_total",
        "counter",
        "Full KSM scans of the host",
        STATS,
        _ksm("shm_full_scans", "ovtui_host_ksm_full_scans_total"),
    ),
)


def _scrape_value(
    name: str, get: Callable[[HostInputs], float | None]
) -> Callable[[HostInputs], Iterator[str]]:
    def lines(i: HostInputs) -> Iterator[str]:
        v = get(i) if i.scrape is not None else None
        if v is not None:
            yield line(name, _label(i.name), v)

    return lines


SCRAPE_FAMILIES = (
    BlockFamily(
        "ovtui_host_scrape_up",
        "gauge",
        "1 when this scrape has statistics for the host",
        SCRAPE,
        _scrape_value("ovtui_host_scrape_up", lambda i: 1 if i.scrape and i.scrape.up else 0),
    ),
    BlockFamily(
        "ovtui_host_scrape_duration_seconds",
        "gauge",
        "Seconds the libvirt statistics read for the host took (or ran before giving up)",
        SCRAPE,
        _scrape_value(
            "ovtui_host_scrape_duration_seconds", lambda i: i.scrape.duration if i.scrape else None
        ),
    ),
    BlockFamily(
        "ovtui_host_stats_age_seconds",
        "gauge",
        "Age of the host statistics served in this scrape",
        SCRAPE,
        _scrape_value("ovtui_host_stats_age_seconds", lambda i: i.scrape.age if i.scrape else None),
    ),
)
