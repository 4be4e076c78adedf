"""The balancing planner on hand-built snapshots: one test per rule and edge case."""

from __future__ import annotations

from ovtui.model import HostState
from policies.balance import plan_balance
from policies.history import Observations
from policies.params import parse_params
from policies.plan import StepKind, plan_from_dict
from tests.policies.helpers import NOW, host, snap, steady, vm

P = parse_params({})


def _hot_a() -> list:
    # a: 16 CPUs, 13.1 busy (82%), excess 0.3 CPUs over 80%
    return [
        vm("w1", "a", vcpus=4, mem=8192, usage=0.9),
        vm("w2", "a", vcpus=4, mem=8192, usage=0.9),
        vm("w3", "a", vcpus=4, mem=8192, usage=0.9),
        vm("small", "a", vcpus=2, mem=2048, usage=0.9),
        vm("tiny", "a", vcpus=1, mem=1024, usage=0.5),
    ]


def _cool(name: str, busy_cpus: int) -> list:
    return [vm(f"{name}-{i}", name, vcpus=1, mem=1024, usage=1.0) for i in range(busy_cpus)]


def test_hot_host_is_relieved_by_the_cheapest_vm_that_suffices() -> None:
    s = snap([host("a"), host("b"), host("c")], _hot_a() + _cool("b", 8) + _cool("c", 3))
    plan = plan_balance(s, "c", P, steady(s))
    assert [(st.kind, st.vm_name, st.host, st.target) for st in plan.steps] == [
        (StepKind.MIGRATE, "tiny", "a", "c")
    ]
    reason = plan.steps[0].reason
    assert reason.startswith("a CPU 82% for 3.0 min > 80%")
    assert "tiny is the cheapest VM (1 GiB) whose move brings a back within its limits" in reason
    assert "c has the most headroom (CPU 19% → 22%)" in reason
    assert plan.before["a"].cpu > 0.8 >= plan.after["a"].cpu  # type: ignore[operator]
    assert set(plan.before) == set(plan.after) == {"a", "b", "c"}
    m = plan.metrics
    assert (m.hosts_over_before, m.hosts_over_after, m.migrations) == (1, 0, 1)
    assert m.cpu_stddev_after < m.cpu_stddev_before
    assert "1 migration" in plan.summary and "hosts above 80%: 1 → 0" in plan.summary


def test_duration_not_yet_exceeded_only_watches() -> None:
    s = snap([host("a"), host("b")], _hot_a())
    plan = plan_balance(s, "c", P, steady(s, minutes=1.5))
    assert not plan.steps
    assert any(
        n.startswith("watching a: CPU 82% > 80% for 1.5 min, not yet 2.0 min") for n in plan.notes
    )


def test_duration_counts_only_the_latest_unbroken_run_above() -> None:
    s = snap([host("a"), host("b")], _hot_a())
    obs = steady(s, minutes=10)
    dip = obs.history.add(NOW + 30, {"a": 0.5}).add(NOW + 60, {"a": 0.82})
    plan = plan_balance(s, "c", P, Observations(NOW + 60, dip))
    assert not plan.steps and "watching a" in plan.notes[0]


def test_zero_duration_acts_on_the_current_snapshot_alone() -> None:
    s = snap([host("a"), host("b")], _hot_a())
    plan = plan_balance(
        s, "c", parse_params({"CpuOverCommitDurationMinutes": 0}), Observations(NOW)
    )
    assert len(plan.steps) == 1


def test_thresholds_at_the_boundary() -> None:
    params = parse_params({"HighUtilization": 50})
    # exactly at 50% is not above it
    at = snap([host("a"), host("b")], _cool("a", 8))
    assert not plan_balance(at, "c", params, steady(at)).steps
    # a target may reach the threshold exactly, not cross it
    hot = _cool("a", 9)  # 56%, one CPU of excess
    fits = snap([host("a"), host("b")], hot + _cool("b", 7))
    plan = plan_balance(fits, "c", params, steady(fits))
    assert [st.target for st in plan.steps] == ["b"] and plan.after["b"].cpu == 0.5
    full = snap([host("a"), host("b")], hot + _cool("b", 7) + [vm("half", "b", vcpus=1, usage=0.5)])
    plan = plan_balance(full, "c", params, steady(full))
    assert not plan.steps
    assert "no other host has 1.0 CPUs free below 50%" in plan.notes[0]


def test_a_single_host_has_nowhere_to_go() -> None:
    s = snap([host("a")], _hot_a())
    plan = plan_balance(s, "c", P, steady(s))
    assert not plan.steps and "no move helps" in plan.notes[0]
    assert "no other host in service" in plan.notes[0]


def test_all_hosts_full_means_no_move() -> None:
    nearly = [vm("b-x", "b", vcpus=1, usage=0.6), vm("c-x", "c", vcpus=1, usage=0.6)]
    s = snap([host("a"), host("b"), host("c")], _hot_a() + _cool("b", 12) + _cool("c", 12) + nearly)
    plan = plan_balance(s, "c", P, steady(s))  # b and c at 79%
    assert not plan.steps
    assert "tiny: no other host has 0.5 CPUs free below 80%" in plan.notes[0]
    assert plan.summary == "c: nothing to do"


def test_pinned_and_non_migratable_vms_stay_put() -> None:
    vms = [vm("p", "a", vcpus=8, usage=1.0, pinned=True),
           vm("n", "a", vcpus=8, usage=1.0, migratable=False)]  # fmt: skip
    s = snap([host("a"), host("b")], vms)
    plan = plan_balance(s, "c", P, steady(s))
    assert not plan.steps
    assert "p is pinned to a" in plan.notes[0] and "n is marked non-migratable" in plan.notes[0]


def test_an_affinity_group_moves_together_or_not_at_all() -> None:
    pair = [vm("x1", "a", vcpus=4, usage=1.0, affinity_group="g"),
            vm("x2", "a", vcpus=2, usage=1.0, affinity_group="g")]  # fmt: skip
    s = snap([host("a"), host("b")], [*pair, vm("p", "a", vcpus=8, usage=1.0, pinned=True)])
    plan = plan_balance(s, "c", P, steady(s))
    assert {(st.vm_name, st.target) for st in plan.steps} == {("x1", "b"), ("x2", "b")}
    assert "x1+x2 (affinity group g)" in plan.steps[0].reason
    # a group already split across hosts: its members here stay
    split = snap([host("a"), host("b"), host("c")],
                 [*pair, vm("p", "a", vcpus=8, usage=1.0, pinned=True),
                  vm("x3", "c", usage=0.1, affinity_group="g")])  # fmt: skip
    plan = plan_balance(split, "c", P, steady(split))
    assert not plan.steps and "affinity group g is split" in plan.notes[0]


def test_anti_affinity_excludes_hosts_holding_a_member() -> None:
    vms = [vm("db1", "a", vcpus=6, usage=1.0, anti_affinity_group="pg"),
           vm("p", "a", vcpus=8, usage=1.0, pinned=True),
           vm("db2", "b", usage=0.1, anti_affinity_group="pg")]  # fmt: skip
    s = snap([host("a"), host("b"), host("c", cpus=8)], vms)
    plan = plan_balance(s, "c", P, steady(s))
    assert [(st.vm_name, st.target) for st in plan.steps] == [("db1", "c")]


def test_hosts_in_maintenance_down_or_unmeasured_are_not_targets() -> None:
    hosts = [host("a"), host("m", maintenance=True), host("d", state=HostState.NON_RESPONSIVE),
             host("u", cpu=None)]  # fmt: skip
    s = snap(hosts, _hot_a())
    plan = plan_balance(s, "c", P, steady(s))
    assert not plan.steps
    s2 = snap([*hosts, host("ok")], _hot_a())
    assert [st.target for st in plan_balance(s2, "c", P, steady(s2)).steps] == ["ok"]


def test_memory_pressure_makes_a_source_without_waiting() -> None:
    vms = [vm("m1", "a", mem=30000, usage=0.01), vm("m2", "a", mem=2000, usage=0.01),
           vm("m3", "a", mem=500, usage=0.01)]  # fmt: skip
    s = snap([host("a", mem=32768), host("b")], vms)  # 268 MiB free < 1024
    plan = plan_balance(s, "c", P, Observations(NOW))
    # m3 (500 MiB) would not free enough; m2 is the cheapest that does
    assert [(st.vm_name, st.target) for st in plan.steps] == [("m2", "b")]
    assert "(MaxFreeMemoryForOverUtilized)" in plan.steps[0].reason
    off = parse_params({"MaxFreeMemoryForOverUtilized": 0})
    assert not plan_balance(s, "c", off, Observations(NOW)).steps


def test_when_no_single_vm_suffices_the_one_that_helps_most_goes_first() -> None:
    vms = [vm(f"h{i}", "a", vcpus=2, mem=2048 + 512 * i, usage=1.0) for i in range(8)]  # 100%
    s = snap([host("a"), host("b"), host("c")], vms)
    plan = plan_balance(s, "c", P, steady(s))
    assert len(plan.steps) == 2  # 16 busy, 12.8 allowed: two VMs of 2 CPUs
    assert "takes the most load off a" in plan.steps[0].reason
    assert plan.steps[0].vm_name == "h0"  # equal help: the cheapest
    assert {st.target for st in plan.steps} == {"b", "c"}  # spread, not piled up


def test_max_migrations_per_round_bounds_the_plan() -> None:
    vms = [vm(f"h{i}", "a", vcpus=2, usage=1.0) for i in range(8)]
    s = snap([host("a"), host("b"), host("c")], vms)
    plan = plan_balance(s, "c", parse_params({"MaxMigrationsPerRound": 1}), steady(s))
    assert len(plan.steps) == 1
    assert any("MaxMigrationsPerRound (1) reached" in n for n in plan.notes)


def test_vcpu_over_commit_limits_targets() -> None:
    vms = [*_hot_a(), *(vm(f"b{i}", "b", vcpus=8, usage=0.0) for i in range(8))]  # 64 vCPUs
    s = snap([host("a"), host("b")], vms)
    plan = plan_balance(s, "c", P, steady(s))
    assert not plan.steps and "MaxVcpusPerCpu 4" in plan.notes[0]


def test_the_plan_round_trips_through_a_dict() -> None:
    s = snap([host("a"), host("b"), host("c")], _hot_a())
    plan = plan_balance(s, "c", P, steady(s)).with_id("abc")
    again = plan_from_dict(plan.to_dict())
    assert again == plan
