"""VM families: one info series with the names, uuid-only series from bulk stats, nothing stale."""

from __future__ import annotations

from collectors.fleet_collector import ScrapeInput
from collectors.vm_metrics import MEASURED_ONLY
from ovtui.model import LoadSource, VmState
from tests.metrics.fakes import host, registry_for, snapshot, stats, up, vm

# A getAllDomainStats record as the QEMU driver gives it (two vCPUs, one disk, one NIC).
QEMU_RECORD = {
    "state.state": 1, "state.reason": 1,
    "cpu.time": 7_500_000_000, "cpu.user": 5_000_000_000, "cpu.system": 2_000_000_000,
    "balloon.current": 4194304, "balloon.maximum": 8388608, "balloon.rss": 3145728,
    "balloon.usable": 2097152, "balloon.available": 4000000, "balloon.unused": 1000000,
    "vcpu.current": 2, "vcpu.maximum": 2,
    "vcpu.0.state": 1, "vcpu.0.time": 10**9, "vcpu.0.wait": 250_000_000, "vcpu.0.delay": 10**8,
    "vcpu.1.state": 1, "vcpu.1.time": 10**9, "vcpu.1.wait": 250_000_000, "vcpu.1.delay": 3 * 10**8,
    "block.count": 1, "block.0.name": "vda", "block.0.rd.reqs": 10, "block.0.rd.bytes": 4096,
    "block.0.rd.times": 2_000_000_000, "block.0.wr.reqs": 5, "block.0.wr.bytes": 8192,
    "block.0.wr.times": 10**9, "block.0.capacity": 10 * 2**30, "block.0.allocation": 2**30,
    "net.count": 1, "net.0.name": "vnet0", "net.0.rx.bytes": 1000, "net.0.rx.pkts": 10,
    "net.0.rx.errs": 1, "net.0.rx.drop": 2, "net.0.tx.bytes": 2000, "net.0.tx.pkts": 20,
    "net.0.tx.errs": 0, "net.0.tx.drop": 0,
}  # fmt: skip


def test_info_state_and_inventory_for_every_vm() -> None:
    snap = snapshot([host("h1")], [vm("web-1"), vm("off-1", state=VmState.SHUTOFF, cpu_usage=0)])
    reg = registry_for(lambda: ScrapeInput(snap, {}))
    get = reg.get_sample_value
    info = {"uuid": "uuid-web-1", "name": "web-1", "host": "h1", "cluster": "c1",
            "datacenter": "dc1", "load_source": "measured"}  # fmt: skip
    assert get("ovtui_vm_info", info) == 1
    assert get("ovtui_vm_state", {"uuid": "uuid-web-1", "state": "running"}) == 1
    assert get("ovtui_vm_state", {"uuid": "uuid-off-1", "state": "shutoff"}) == 1
    assert get("ovtui_vm_state", {"uuid": "uuid-web-1", "state": "paused"}) is None
    assert get("ovtui_vm_vcpus", {"uuid": "uuid-web-1"}) == 4
    assert get("ovtui_vm_memory_configured_bytes", {"uuid": "uuid-web-1"}) == 8 * 2**30
    assert get("ovtui_vm_cpu_utilisation_ratio", {"uuid": "uuid-web-1"}) == 0.25


def test_bulk_statistics_become_base_unit_counters_keyed_by_uuid() -> None:
    snap = snapshot([host("h1")], [vm("web-1")])
    scrape = up("h1", stats({"uuid-web-1": QEMU_RECORD}))
    reg = registry_for(lambda: ScrapeInput(snap, {"h1": scrape}))
    get = reg.get_sample_value
    u = {"uuid": "uuid-web-1"}
    assert get("ovtui_vm_cpu_seconds_total", u) == 7.5
    assert get("ovtui_vm_cpu_user_seconds_total", u) == 5.0
    assert get("ovtui_vm_cpu_system_seconds_total", u) == 2.0
    assert get("ovtui_vm_memory_balloon_current_bytes", u) == 4194304 * 1024
    assert get("ovtui_vm_memory_balloon_maximum_bytes", u) == 8388608 * 1024
    assert get("ovtui_vm_memory_rss_bytes", u) == 3145728 * 1024
    assert get("ovtui_vm_memory_usable_bytes", u) == 2097152 * 1024
    assert get("ovtui_vm_vcpu_wait_seconds_total", u) == 0.5  # summed over vCPUs
    assert get("ovtui_vm_vcpu_delay_seconds_total", u) == 0.4
    disk = {"uuid": "uuid-web-1", "device": "vda"}
    assert get("ovtui_vm_block_read_bytes_total", disk) == 4096
    assert get("ovtui_vm_block_write_requests_total", disk) == 5
    assert get("ovtui_vm_block_read_seconds_total", disk) == 2.0
    assert get("ovtui_vm_block_capacity_bytes", disk) == 10 * 2**30
    nic = {"uuid": "uuid-web-1", "interface": "vnet0"}
    assert get("ovtui_vm_network_receive_bytes_total", nic) == 1000
    assert get("ovtui_vm_network_transmit_packets_total", nic) == 20
    assert get("ovtui_vm_network_receive_drops_total", nic) == 2
    for metric in reg.collect():  # names, hosts and clusters only on the info series
        for sample in metric.samples:
            if sample.name.startswith("ovtui_vm_") and sample.name != "ovtui_vm_info":
                assert set(sample.labels) <= {"uuid", "state", "device", "interface"}, sample


def test_state_only_statistics_give_no_counters_and_synthetic_load_is_labelled() -> None:
    # what libvirt's test driver returns: state.* only
    snap = snapshot([host("h1")], [vm("web-1", load_source=LoadSource.SYNTHETIC)])
    scrape = up("h1", stats({"uuid-web-1": {"state.state": 3, "state.reason": 1}}))
    reg = registry_for(lambda: ScrapeInput(snap, {"h1": scrape}))
    names = {s.name for m in reg.collect() for s in m.samples}
    assert not names & MEASURED_ONLY
    assert reg.get_sample_value("ovtui_vm_info", {
        "uuid": "uuid-web-1", "name": "web-1", "host": "h1", "cluster": "c1",
        "datacenter": "dc1", "load_source": "synthetic"}) == 1  # fmt: skip
    # the bulk statistics are fresher than the snapshot: their state wins (3 = paused)
    assert reg.get_sample_value("ovtui_vm_state", {"uuid": "uuid-web-1", "state": "paused"}) == 1


def test_a_deleted_vm_disappears_from_the_next_scrape() -> None:
    current = {"snap": snapshot([host("h1")], [vm("web-1"), vm("web-2")])}
    reg = registry_for(lambda: ScrapeInput(current["snap"], {}))
    assert reg.get_sample_value("ovtui_vm_vcpus", {"uuid": "uuid-web-2"}) == 4
    current["snap"] = snapshot([host("h1")], [vm("web-1")])
    assert reg.get_sample_value("ovtui_vm_vcpus", {"uuid": "uuid-web-2"}) is None
    assert not [s for m in reg.collect() for s in m.samples if "uuid-web-2" in s.labels.values()]


def test_a_vm_listed_on_two_hosts_mid_migration_is_exported_once_from_where_it_runs() -> None:
    paused_on_source = vm("web-1", "h1", state=VmState.PAUSED)
    running_on_target = vm("web-1", "h2")
    snap = snapshot([host("h1"), host("h2")], [paused_on_source, running_on_target])
    scrapes = {
        "h1": up("h1", stats({"uuid-web-1": {"state.state": 3, "cpu.time": 9 * 10**9}})),
        "h2": up("h2", stats({"uuid-web-1": {"state.state": 1, "cpu.time": 10**9}})),
    }
    reg = registry_for(lambda: ScrapeInput(snap, scrapes))
    infos = [s for m in reg.collect() for s in m.samples if s.name == "ovtui_vm_info"]
    assert [s.labels["host"] for s in infos] == ["h2"]
    assert reg.get_sample_value("ovtui_vm_cpu_seconds_total", {"uuid": "uuid-web-1"}) == 1.0
    states = [s for m in reg.collect() for s in m.samples if s.name == "ovtui_vm_state"]
    assert [s.labels["state"] for s in states] == ["running"]


def test_statistics_of_a_vm_the_snapshot_does_not_know_yet_are_skipped() -> None:
    snap = snapshot([host("h1")], [])
    scrape = up("h1", stats({"uuid-new": {"state.state": 1, "cpu.time": 10**9}}))
    reg = registry_for(lambda: ScrapeInput(snap, {"h1": scrape}))
    assert reg.get_sample_value("ovtui_vm_cpu_seconds_total", {"uuid": "uuid-new"}) is None
