"""Host, cluster and scrape-health families from injected snapshots and statistics."""

from __future__ import annotations

from dataclasses import replace

from collectors.fleet_collector import ScrapeInput
from collectors.host_metrics import MEASURED_ONLY
from collectors.stats_cache import HostScrape
from ovtui.model import HostState, VmState
from tests.metrics.fakes import host, registry_for, snapshot, stats, synthetic, up, vm

GIB = 2**30


def _names(registry) -> set[str]:
    return {s.name for m in registry.collect() for s in m.samples}


def test_capacity_commitment_state_and_info_from_the_snapshot() -> None:
    snap = snapshot([host("h1")], [vm("a"), vm("b", state=VmState.SHUTOFF)])
    reg = registry_for(lambda: ScrapeInput(snap, {"h1": up("h1", stats())}))
    get = reg.get_sample_value
    info = {
        "host": "h1", "cluster": "c1", "datacenter": "dc1", "cpu_model": "Skylake-Server",
        "load_source": "measured", "power_management": "none",
    }  # fmt: skip
    assert get("ovtui_host_info", info) == 1
    assert get("ovtui_host_up", {"host": "h1"}) == 1
    assert get("ovtui_host_state", {"host": "h1", "state": "up"}) == 1
    assert get("ovtui_host_state", {"host": "h1", "state": "maintenance"}) == 0
    assert get("ovtui_host_power_state", {"host": "h1", "state": "on"}) == 1
    assert get("ovtui_host_maintenance", {"host": "h1"}) == 0
    assert get("ovtui_host_cpus", {"host": "h1"}) == 16
    assert get("ovtui_host_cpu_utilisation_ratio", {"host": "h1"}) == 0.5
    assert get("ovtui_host_memory_total_bytes", {"host": "h1"}) == 64 * GIB
    assert get("ovtui_host_memory_committed_bytes", {"host": "h1"}) == 48 * GIB
    assert get("ovtui_host_memory_commitment_ratio", {"host": "h1"}) == 0.75
    assert get("ovtui_host_vcpus_committed", {"host": "h1"}) == 24
    assert get("ovtui_host_vcpu_commitment_ratio", {"host": "h1"}) == 1.5
    assert get("ovtui_host_vms_running", {"host": "h1"}) == 2
    assert get("ovtui_host_vms_defined", {"host": "h1"}) == 2
    # cluster facts the alert rules compare against
    assert get("ovtui_cluster_memory_overcommit_ratio", {"cluster": "c1"}) == 1.5
    assert get(
        "ovtui_cluster_info",
        {"cluster": "c1", "datacenter": "dc1", "cpu_model": "Skylake-Server",
         "scheduling_policy": "evenly_distributed", "scheduling_mode": "recommend"},
    ) == 1  # fmt: skip


def test_only_the_info_metric_carries_cluster_and_datacenter() -> None:
    reg = registry_for(lambda: ScrapeInput(snapshot([host("h1")], []), {}))
    for metric in reg.collect():
        for sample in metric.samples:
            if sample.name.startswith("ovtui_host_") and sample.name != "ovtui_host_info":
                assert set(sample.labels) <= {"host", "state", "mode"}, sample


def test_node_counters_memory_and_ksm_where_the_driver_has_them() -> None:
    node = stats(
        node_cpu_ns={"kernel": 3 * 10**9, "user": 5 * 10**9, "idle": 40 * 10**9, "iowait": 10**9},
        node_memory_kib={"total": 1048576, "free": 262144, "buffers": 65536, "cached": 131072},
        ksm={"shm_pages_shared": 100, "shm_pages_sharing": 900, "shm_pages_unshared": 7,
             "shm_pages_volatile": 3, "shm_full_scans": 12, "shm_pages_to_scan": 100},
    )  # fmt: skip
    reg = registry_for(lambda: ScrapeInput(snapshot([host("h1")], []), {"h1": up("h1", node)}))
    get = reg.get_sample_value
    assert get("ovtui_host_cpu_seconds_total", {"host": "h1", "mode": "user"}) == 5.0
    assert get("ovtui_host_cpu_seconds_total", {"host": "h1", "mode": "idle"}) == 40.0
    assert get("ovtui_host_memory_free_bytes", {"host": "h1"}) == 262144 * 1024
    # used = total - free - buffers - cached, all NUMA cells
    assert get("ovtui_host_memory_used_bytes", {"host": "h1"}) == (1048576 - 458752) * 1024
    assert get("ovtui_host_ksm_sharing_pages", {"host": "h1"}) == 900
    assert get("ovtui_host_ksm_shared_pages", {"host": "h1"}) == 100
    assert get("ovtui_host_ksm_full_scans_total", {"host": "h1"}) == 12


def test_measured_families_are_absent_without_measurements_and_synthetic_is_labelled() -> None:
    h = synthetic(host("h1"))
    reg = registry_for(lambda: ScrapeInput(snapshot([h], []), {"h1": up("h1", stats())}))
    assert not (_names(reg) & MEASURED_ONLY)
    assert reg.get_sample_value(
        "ovtui_host_info",
        {"host": "h1", "cluster": "c1", "datacenter": "dc1", "cpu_model": "Skylake-Server",
         "load_source": "synthetic", "power_management": "none"},
    ) == 1  # fmt: skip


def test_a_failed_host_is_scrape_up_0_and_the_others_still_export() -> None:
    snap = snapshot([host("h1"), host("h2")], [])
    node = stats(node_memory_kib={"total": 100, "free": 50})
    scrapes = {
        "h1": HostScrape("h1", False, duration=2.5, error="no answer"),
        "h2": up("h2", node),
    }
    reg = registry_for(lambda: ScrapeInput(snap, scrapes))
    get = reg.get_sample_value
    assert get("ovtui_host_scrape_up", {"host": "h1"}) == 0
    assert get("ovtui_host_scrape_duration_seconds", {"host": "h1"}) == 2.5
    assert get("ovtui_host_stats_age_seconds", {"host": "h1"}) is None
    assert get("ovtui_host_memory_free_bytes", {"host": "h1"}) is None
    assert get("ovtui_host_scrape_up", {"host": "h2"}) == 1
    assert get("ovtui_host_memory_free_bytes", {"host": "h2"}) == 50 * 1024
    assert get("ovtui_host_cpus", {"host": "h1"}) == 16  # inventory comes from the snapshot


def test_unreachable_never_read_host_has_state_but_no_capacity() -> None:
    never = host("h9", state=HostState.NON_RESPONSIVE, last_seen=None, cpu_usage=None)
    powered_off = host("h8", state=HostState.DOWN, power_management=True)
    reg = registry_for(lambda: ScrapeInput(snapshot([never, powered_off], []), {}))
    get = reg.get_sample_value
    assert get("ovtui_host_up", {"host": "h9"}) == 0
    assert get("ovtui_host_state", {"host": "h9", "state": "non_responsive"}) == 1
    assert get("ovtui_host_power_state", {"host": "h9", "state": "unknown"}) == 1
    assert get("ovtui_host_cpus", {"host": "h9"}) is None
    assert get("ovtui_host_cpu_utilisation_ratio", {"host": "h9"}) is None
    assert get("ovtui_host_power_state", {"host": "h8", "state": "off"}) == 1


def test_maintenance_flag() -> None:
    h = replace(host("h1"), state=HostState.MAINTENANCE, maintenance=True)
    reg = registry_for(lambda: ScrapeInput(snapshot([h], []), {}))
    assert reg.get_sample_value("ovtui_host_maintenance", {"host": "h1"}) == 1
    assert reg.get_sample_value("ovtui_host_up", {"host": "h1"}) == 1
    assert reg.get_sample_value("ovtui_host_state", {"host": "h1", "state": "maintenance"}) == 1
