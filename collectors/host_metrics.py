"""Host metric families, built fresh on every scrape from the snapshot and the hosts' statistics.

Only `ovtui_host_info` carries cluster, datacenter, CPU model, load source and power management;
every other host series carries `host` alone (join on it). Capacity, commitment, VM counts and
the CPU utilisation gauge come from the fleet snapshot and exist for every host; counters read
from the host itself (node CPU seconds, memory used/free, KSM) exist only where the driver has
them — never on libvirt's test driver, whose load is synthetic (`load_source="synthetic"`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from collectors.stats_cache import HostScrape
from ovtui.model import Host, HostState, Snapshot

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


def _g(name: str, doc: str, labels: tuple[str, ...] = ("host",)) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def snapshot_families(snapshot: Snapshot) -> Iterator[Metric]:
    info = _g(
        "ovtui_host_info",
        "Host facts to join on `host`; load_source=synthetic marks demo load, not measurements",
        ("host", "cluster", "datacenter", "cpu_model", "load_source", "power_management"),
    )
    up = _g("ovtui_host_up", "1 when the engine's libvirt connection to the host works")
    state = _g("ovtui_host_state", "The host's state (1 for the current one)", ("host", "state"))
    maint = _g("ovtui_host_maintenance", "1 while the host is in maintenance")
    power = _g("ovtui_host_power_state", "Power state (1 for the current one)", ("host", "state"))
    cpus = _g("ovtui_host_cpus", "Logical CPUs of the host (capacity)")
    util = _g(
        "ovtui_host_cpu_utilisation_ratio",
        "Share of the host's CPUs busy with VMs, 0-1 (synthetic where load_source=synthetic)",
    )
    mem_total = _g("ovtui_host_memory_total_bytes", "Memory of the host (capacity)")
    mem_comm = _g("ovtui_host_memory_committed_bytes", "Memory of the host's active VMs")
    vms_run = _g("ovtui_host_vms_running", "VMs active on the host (running, paused, ...)")
    vms_def = _g("ovtui_host_vms_defined", "VMs defined on the host, active or not")
    vcpus = _g("ovtui_host_vcpus_committed", "vCPUs of the host's active VMs")
    vcpu_ratio = _g("ovtui_host_vcpu_commitment_ratio", "Active vCPUs per host CPU")
    mem_ratio = _g("ovtui_host_memory_commitment_ratio", "Active VM memory per host memory")
    seen = _g("ovtui_host_last_seen_timestamp_seconds", "Unix time the host was last read")
    defined: dict[str, int] = {}
    for vm in snapshot.vms:
        defined[vm.host] = defined.get(vm.host, 0) + 1
    for h in snapshot.hosts:
        name = h.name
        power_kind = "enabled" if h.power_management else "none"
        info.add_metric(
            [name, h.cluster, h.datacenter, h.cpu_model, h.load_source.value, power_kind], 1
        )
        up.add_metric([name], 1 if h.state in REACHABLE else 0)
        for s in HostState:
            state.add_metric([name, s.value], 1 if h.state == s else 0)
        maint.add_metric([name], 1 if h.maintenance else 0)
        current = power_state(h)
        for p in POWER_STATES:
            power.add_metric([name, p], 1 if p == current else 0)
        vms_def.add_metric([name], defined.get(name, 0))
        if h.last_seen is not None:
            seen.add_metric([name], h.last_seen)
        if h.cpu_usage is not None:
            util.add_metric([name], h.cpu_usage)
        if h.last_seen is None and h.state not in REACHABLE:
            continue  # never read: capacity and commitment are unknown, not zero
        mem_bytes = h.memory_mib * MIB
        cpus.add_metric([name], h.cpus)
        mem_total.add_metric([name], mem_bytes)
        mem_comm.add_metric([name], h.memory_used_mib * MIB)
        vms_run.add_metric([name], h.vms_running)
        vcpus.add_metric([name], h.vcpus_committed)
        if h.cpus:
            vcpu_ratio.add_metric([name], h.vcpus_committed / h.cpus)
        if mem_bytes:
            mem_ratio.add_metric([name], h.memory_used_mib / h.memory_mib)
    yield from (info, up, state, maint, power, cpus, util, mem_total, mem_comm, vms_run, vms_def)
    yield from (vcpus, vcpu_ratio, mem_ratio, seen)


def measured_families(scrapes: Mapping[str, HostScrape]) -> Iterator[Metric]:
    cpu = CounterMetricFamily(
        "ovtui_host_cpu_seconds_total",
        "CPU time of the host by mode (kernel, user, idle, iowait), read from libvirt",
        labels=["host", "mode"],
    )
    free = _g("ovtui_host_memory_free_bytes", "Free memory of the host, all NUMA cells")
    used = _g(
        "ovtui_host_memory_used_bytes",
        "Memory in use on the host: total - free - buffers - cached, all NUMA cells",
    )
    ksm = {key: _g(name, f"KSM {key.removeprefix('shm_')}") for key, name in KSM_KEYS.items()}
    scans = CounterMetricFamily(
        "ovtui_host_ksm_full_scans_total", "Full KSM scans of the host", labels=["host"]
    )
    for name, scrape in scrapes.items():
        stats = scrape.stats if scrape.up else None
        if stats is None:
            continue
        for mode, ns in (stats.node_cpu_ns or {}).items():
            cpu.add_metric([name, mode], ns / 1e9)
        mem = stats.node_memory_kib
        if mem and "free" in mem:
            free.add_metric([name], mem["free"] * KIB)
            if "total" in mem:
                rest = mem["free"] + mem.get("buffers", 0) + mem.get("cached", 0)
                used.add_metric([name], max(0, mem["total"] - rest) * KIB)
        for key, value in (stats.ksm or {}).items():
            if key in ksm:
                ksm[key].add_metric([name], value)
            elif key == "shm_full_scans":
                scans.add_metric([name], value)
    yield from (cpu, free, used, *ksm.values(), scans)


def scrape_families(scrapes: Mapping[str, HostScrape]) -> Iterator[Metric]:
    up = _g("ovtui_host_scrape_up", "1 when this scrape has statistics for the host")
    took = _g(
        "ovtui_host_scrape_duration_seconds",
        "Seconds the libvirt statistics read for the host took (or ran before giving up)",
    )
    age = _g("ovtui_host_stats_age_seconds", "Age of the host statistics served in this scrape")
    for name, scrape in scrapes.items():
        up.add_metric([name], 1 if scrape.up else 0)
        took.add_metric([name], scrape.duration)
        if scrape.age is not None:
            age.add_metric([name], scrape.age)
    yield from (up, took, age)
