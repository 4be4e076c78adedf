"""Formatting, filtering and parsing: no terminal, no engine."""

from __future__ import annotations

import pytest

from ovtui.tui import fmt
from ovtui.tui.filtering import FilterError, compile_filter
from ovtui.tui.rows import FleetData, VmRow


def vm(name: str, host: str = "h1", **kw: object) -> VmRow:
    return VmRow.from_json({"uuid": name, "name": name, "host": host, "cluster": "c1", **kw})


def test_filter_substring_is_case_insensitive_over_the_visible_fields() -> None:
    f = compile_filter("WEB")
    assert f is not None
    assert f(vm("web-01")) and not f(vm("db-01"))
    host_filter = compile_filter("h2")
    assert host_filter is not None and host_filter(vm("db-01", host="h2"))
    assert compile_filter("   ") is None


def test_filter_regex_anchors_apply_to_each_field() -> None:
    f = compile_filter("re:^web-0[12]$")
    assert f is not None
    assert [v.name for v in map(vm, ["web-01", "web-02", "web-03", "xweb-01"]) if f(v)] == [
        "web-01",
        "web-02",
    ]
    with pytest.raises(FilterError, match="bad regex"):
        compile_filter("re:([")


def test_synthetic_figures_are_marked_and_measured_ones_not() -> None:
    assert str(fmt.percent(0.43, synthetic=True)) == " 43%*"
    assert str(fmt.percent(0.43, synthetic=False)) == " 43%"
    assert str(fmt.bar(0.4, synthetic=True)).endswith("40%*")
    assert str(fmt.percent(None, synthetic=True)).strip() == "-"
    assert fmt.percent(None, True).sort_key < fmt.percent(0.0, True).sort_key


def test_fleet_data_tolerates_unknown_and_missing_fields() -> None:
    data = FleetData.from_json(
        [
            {"name": "h1", "cluster": "c1", "state": "up", "memory_mib": 1000, "new": 1},
            {"name": "h2", "cluster": "c1", "state": "maintenance"},
            {"name": "h3", "cluster": "c2", "state": "up", "load_source": "synthetic"},
            {
                "name": "h4",
                "cluster": "c1",
                "state": "up",
                "memory_mib": 2000,
                "memory_used_mib": 2500,
            },
        ],
        [{"uuid": "u1", "name": "v1", "host": "h1", "cluster": "c1", "state": "running"}],
        [{"name": "c1", "memory_overcommit_percent": 150}],
    )
    assert data.synthetic
    v1 = data.vm("u1")
    assert v1 is not None and v1.running
    # Same cluster, up, not its own host: only h4 (h2 is in maintenance, h3 elsewhere).
    assert [h.name for h in data.migration_targets(v1)] == ["h4"]
    h4 = data.host("h4")
    assert h4 is not None and data.memory_free_mib(h4) == 500  # 2000 * 150% - 2500


def test_a_migrating_vm_shows_where_it_goes_and_an_unknown_state_shows_as_sent() -> None:
    from ovtui.tui.columns import vm_cells
    from ovtui.tui.vm_detail import fields_text

    moving = vm(
        "web-1",
        state="migrating",
        migration_source="h1",
        migration_target="h2",
        migration_mode="live",
        cpu_usage=0.5,
    )
    state_cell, host_cell = vm_cells(moving)[1:3]
    assert (str(state_cell), host_cell) == ("→h2", "h1")
    assert moving.active  # moved live: it keeps running, and holding memory
    assert "web-1  migrating (live) from h1 to h2" in fields_text(moving)
    offline = vm("off-1", state="migrating", migration_target="h2", migration_mode="offline")
    assert not offline.active
    # a state this dashboard does not know (a newer engine) is shown as the engine sent it
    assert str(vm_cells(vm("x-1", state="teleporting"))[1]) == "teleporting"
    assert "x-1  teleporting  on h1" in fields_text(vm("x-1", state="teleporting"))
