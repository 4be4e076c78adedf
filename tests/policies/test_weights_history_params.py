"""Weighers (normalisation), the load history, and parameter parsing."""

from __future__ import annotations

import pytest

from policies.history import LoadHistory
from policies.params import PARAMS, ParamError, param_errors, parse_params
from policies.state import ClusterState
from policies.weights import PACK, SPREAD, Ask, best, normalize, weigh
from tests.policies.helpers import host, snap, vm


def test_normalize_scales_to_0_1_and_all_equal_to_zero() -> None:
    assert normalize([2.0, 4.0, 3.0]) == [0.0, 1.0, 0.5]
    assert normalize([5.0, 5.0]) == [0.0, 0.0]
    assert normalize([]) == []


def test_spread_prefers_headroom_and_pack_prefers_the_fullest() -> None:
    vms = [vm("x", "busy", vcpus=8, usage=1.0), vm("y", "mid", vcpus=4, usage=1.0)]
    st = ClusterState.from_snapshot(snap([host("busy"), host("mid"), host("idle")], vms), "c")
    rooms = [st.rooms["busy"], st.rooms["mid"], st.rooms["idle"]]
    ask = Ask(cpu=1.0, memory_mib=1024)
    assert best(SPREAD, ask, rooms).name == "idle"
    assert best(PACK, ask, rooms).name == "busy"
    totals = weigh(SPREAD, ask, rooms)
    assert totals[2] == max(totals) and totals[0] == min(totals)


def test_above_for_measures_the_latest_unbroken_run() -> None:
    h = LoadHistory(retain_seconds=3600)
    for t, cpu in [(0, 0.9), (60, 0.5), (120, 0.85), (180, 0.9), (240, 0.95)]:
        h = h.add(t, {"a": cpu, "b": None})
    assert h.above_for("a", 0.8) == 120.0
    assert h.above_for("a", 0.9) == 0.0  # only t=240 is above 0.9: one sample counts as 0 s
    assert h.above_for("b", 0.8) == 0.0  # None readings are not samples
    assert h.above_for("a", 0.95) == 0.0


def test_history_forgets_old_samples() -> None:
    h = LoadHistory(retain_seconds=100)
    for t in range(0, 500, 50):
        h = h.add(float(t), {"a": 0.9})
    assert [t for t, _ in h.of("a")] == [350.0, 400.0, 450.0]
    gone = h.add(1000.0, {})
    assert gone.of("a") == ()


def test_defaults_and_units() -> None:
    p = parse_params({})
    assert (p.high, p.low, p.duration_s, p.max_migrations, p.hosts_in_reserve) == (
        0.8, 0.2, 120.0, 5, 0
    )  # fmt: skip
    assert (
        parse_params({"HighUtilization": 90, "CpuOverCommitDurationMinutes": 0.5}).duration_s == 30
    )
    low_only = {"LowUtilization", "MinFreeMemoryForUnderUtilized"}
    assert set(p.describe()) == set(PARAMS) - low_only
    assert p.describe()["ConsolidationMode"] == "demand"
    assert p.describe()["DemandCapacityRatioTarget"] == 63
    ovirt = parse_params({"ConsolidationMode": "low_utilization", "LowUtilization": 30})
    assert (ovirt.mode, ovirt.low) == ("low_utilization", 0.3)
    assert set(ovirt.describe()) == set(PARAMS) - {
        "DemandCapacityRatioTarget",
        "DemandCapacityRatioTolerance",
    }


@pytest.mark.parametrize(
    ("raw", "key", "text"),
    [
        ({"HighUtilisation": 80}, "HighUtilisation", "unknown parameter (valid: HighUtilization,"),
        ({"HighUtilization": "80"}, "HighUtilization", "must be a number (%), got str '80'"),
        ({"HighUtilization": True}, "HighUtilization", "got bool True"),
        ({"HighUtilization": 101}, "HighUtilization", "must be between 1 and 100 %"),
        ({"HostsInReserve": 1.5}, "HostsInReserve", "must be a whole number of hosts"),
        (
            {"LowUtilization": 80, "ConsolidationMode": "low_utilization"},
            "LowUtilization",
            "must be below HighUtilization (80 >= 80)",
        ),
        ({"ConsolidationMode": 1}, "ConsolidationMode", 'must be "demand" or "low_utilization"'),
    ],
)
def test_bad_parameters_name_the_key(raw: dict, key: str, text: str) -> None:
    errors = param_errors(raw)
    assert errors and errors[0][0] == key and text in errors[0][1]
    with pytest.raises(ParamError) as info:
        parse_params(raw)
    assert info.value.key == key
