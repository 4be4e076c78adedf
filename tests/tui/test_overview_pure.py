"""The overview's parts without a terminal: history, load, alerts, the tree's rows."""

from __future__ import annotations

from typing import Any

from ovtui.tui.alerts import failed_events, host_alerts, summary_line
from ovtui.tui.history import History, Load, spark
from ovtui.tui.overview_rows import VmCounts, overview_rows
from ovtui.tui.rows import FleetData


def fleet(*hosts: dict[str, Any], vms: tuple[dict[str, Any], ...] = ()) -> FleetData:
    base = {"datacenter": "dc1", "cluster": "c1", "state": "up", "cpus": 8, "memory_mib": 1000}
    return FleetData.from_json([{**base, **h} for h in hosts], list(vms), [])


def test_history_keeps_the_last_samples_per_host_cluster_and_datacenter() -> None:
    history = History(samples=3)
    for i in range(5):
        history.record(fleet({"name": "h1", "cpu_usage": i / 10, "memory_used_mib": 500}))
    assert list(history.cpu["dc1/c1/h1"]) == [0.2, 0.3, 0.4]
    assert list(history.cpu["dc1/c1"]) == [0.2, 0.3, 0.4]
    assert list(history.memory["dc1"]) == [0.5, 0.5, 0.5]
    history.record(fleet({"name": "h2", "cpu_usage": 0.1}))  # h1 left the fleet
    assert "dc1/c1/h1" not in history.cpu and "dc1/c1/h2" in history.cpu


def test_group_load_weights_cpu_by_cpu_count_and_skips_unknown_figures() -> None:
    f = fleet(
        {"name": "big", "cpus": 30, "cpu_usage": 1.0, "memory_used_mib": 1000},
        {"name": "small", "cpus": 10, "cpu_usage": 0.0, "memory_used_mib": 0},
        {"name": "down", "cpus": 10, "cpu_usage": None, "load_source": "synthetic"},
    )
    load = Load.of(f.hosts)
    assert load.cpu == 0.75 and load.memory == 1000 / 3000 and load.synthetic
    assert Load.of([]).cpu is None


def test_sparkline_text_uses_a_fixed_scale() -> None:
    assert spark([0.0, 0.5, 1.0, 2.0], width=10) == "▁▅██"
    assert spark([0.1] * 20, width=5) == "▂" * 5  # only the last five


def test_alerts_name_unhealthy_and_hot_hosts() -> None:
    f = fleet(
        {"name": "a", "state": "non_responsive", "state_reason": "no route"},
        {"name": "b", "state": "non_operational"},
        {"name": "c", "maintenance": True},
        {"name": "d", "cpu_usage": 0.93, "load_source": "synthetic"},
        {"name": "e", "memory_used_mib": 850},
        {"name": "f", "cpu_usage": 0.5, "memory_used_mib": 500},
    )
    texts = [(a.severity, a.text) for a in host_alerts(f)]
    assert texts == [
        ("error", "a not responding: no route"),
        ("error", "b non-operational"),
        ("info", "c in maintenance"),
        ("warning", "d CPU 93%*"),
        ("warning", "e memory 85% committed"),
    ]
    assert summary_line(host_alerts(f)) == "2 errors · 2 warnings · 1 info"
    assert summary_line([]) == "no alerts"


def test_failed_events_are_alerts_newest_first() -> None:
    events = [
        {"vm": "web-1", "what": "migration to h2 failed", "detail": "no room"},
        {"vm": "web-2", "what": "started"},
        {"vm": "db-1", "what": "crashed"},
    ]
    assert [a.text for a in failed_events(events)] == [
        "db-1: crashed",
        "web-1: migration to h2 failed (no room)",
    ]


def test_overview_rows_form_a_tree_in_sort_order() -> None:
    f = fleet(
        {"name": "h2", "cluster": "c2", "cpu_usage": 0.5, "memory_used_mib": 250},
        {"name": "h1", "cpu_usage": 0.25, "state": "non_responsive"},
        vms=(
            {"name": "v1", "host": "h1", "state": "running"},
            {"name": "v2", "host": "h1", "state": "shutoff"},
        ),
    )
    history = History()
    history.record(f)
    rows = overview_rows(f, history)
    ordered = sorted(rows, key=lambda k: rows[k][0].sort_key)  # type: ignore[union-attr]
    assert ordered == ["dc1", "dc1/c1", "dc1/c1/h1", "dc1/c2", "dc1/c2/h2"]
    assert str(rows["dc1"][1]) == "1/2 up"
    assert str(rows["dc1/c1/h1"][0]) == "    h1" and str(rows["dc1/c1/h1"][4]) == "1/2"
    assert str(rows["dc1"][4]) == "1/2"
    assert str(rows["dc1/c2/h2"][3]).endswith("25% ")  # memory: never marked synthetic


def test_the_overview_counts_vms_again_only_for_a_new_vm_list() -> None:
    vms = ({"name": "v1", "host": "h1", "state": "running"},)
    f = fleet({"name": "h1", "cpu_usage": 0.25}, vms=vms)
    counts, history = VmCounts(), History()
    assert str(overview_rows(f, history, counts)["dc1/c1/h1"][4]) == "1/1"
    first = counts.defined
    hosts_moved = FleetData(fleet({"name": "h1", "cpu_usage": 0.5}).hosts, f.vms)
    assert str(overview_rows(hosts_moved, history, counts)["dc1/c1/h1"][4]) == "1/1"
    assert counts.defined is first  # the same VM list: not counted again
    more = fleet({"name": "h1"}, vms=(*vms, {"name": "v2", "host": "h1", "state": "shutoff"}))
    assert str(overview_rows(more, history, counts)["dc1/c1/h1"][4]) == "1/2"
