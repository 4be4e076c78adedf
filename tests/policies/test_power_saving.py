"""The power-saving planner on hand-built snapshots: drain, reserve, release, wake, hysteresis.

These run oVirt's rule (ConsolidationMode "low_utilization"); test_consolidation.py covers the
default demand mode and choosing the hosts that stay on mixed hardware."""

from __future__ import annotations

from types import MappingProxyType

from ovtui.model import HostState
from policies.history import Observations
from policies.params import parse_params
from policies.plan import StepKind
from policies.power_saving import plan_power_saving
from tests.policies.helpers import NOW, host, snap, steady, vm

LOW = {"ConsolidationMode": "low_utilization"}
P = parse_params(LOW)


def _busy(name: str, cpus: int) -> list:
    return [vm(f"{name}-{i}", name, vcpus=1, mem=1024, usage=1.0) for i in range(cpus)]


def _idle(name: str, n: int = 2) -> list:
    return [vm(f"{name}-idle{i}", name, vcpus=1, mem=2048, usage=0.1) for i in range(n)]


def _kinds(plan) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(s.kind.value, s.vm_name or s.host) for s in plan.steps]


def test_an_idle_host_is_drained_onto_the_fullest_host_that_fits_and_released() -> None:
    s = snap([host("a"), host("b"), host("c")], _busy("a", 8) + _busy("b", 4) + _idle("c"))
    plan = plan_power_saving(s, "c", P, steady(s))
    assert _kinds(plan) == [("migrate", "c-idle0"), ("migrate", "c-idle1"), ("maintenance", "c")]
    assert {st.target for st in plan.steps if st.kind == StepKind.MIGRATE} == {"a"}  # packed
    assert "c CPU 1% < 20% (LowUtilization): draining it frees a host" in plan.steps[0].reason
    assert plan.steps[-1].reason.endswith("no power management: host left in maintenance")
    m = plan.metrics
    assert (m.hosts_in_service_before, m.hosts_in_service_after, m.hosts_released) == (3, 2, 1)
    assert not plan.after["c"].in_service and plan.after["c"].vms == 0


def test_power_management_adds_a_power_off_after_maintenance() -> None:
    s = snap([host("a"), host("c", pm=True)], _busy("a", 8) + _idle("c"))
    plan = plan_power_saving(s, "c", P, steady(s))
    assert [k for k, _ in _kinds(plan)] == ["migrate", "migrate", "maintenance", "power_off"]


def test_hosts_in_reserve_stay_up_and_empty() -> None:
    params = parse_params({**LOW, "HostsInReserve": 1})
    # one empty host already: it is the reserve, so the idle host can be released
    s = snap([host("a"), host("e"), host("c")], _busy("a", 8) + _idle("c"))
    plan = plan_power_saving(s, "c", params, steady(s))
    assert ("maintenance", "c") in _kinds(plan) and ("maintenance", "e") not in _kinds(plan)
    # no empty host: draining the only idle host would just refill the reserve -> nothing
    s = snap([host("a"), host("c")], _busy("a", 8) + _idle("c"))
    plan = plan_power_saving(s, "c", params, steady(s))
    assert not plan.steps and "nothing to release, so nothing is drained" in "\n".join(plan.notes)


def test_surplus_empty_hosts_are_released_without_migrations() -> None:
    s = snap([host("a"), host("e1"), host("e2", pm=True)], _busy("a", 4))
    plan = plan_power_saving(s, "c", parse_params({**LOW, "HostsInReserve": 1}), steady(s))
    # one of two empty hosts goes; power-managed hosts are released first
    assert _kinds(plan) == [("maintenance", "e2"), ("power_off", "e2")]


def test_at_least_one_host_stays_in_service() -> None:
    s = snap([host("a"), host("b")], _idle("a") + _idle("b"))
    plan = plan_power_saving(s, "c", P, steady(s))
    assert plan.metrics.hosts_in_service_after == 1 and plan.metrics.hosts_released == 1


def test_a_host_that_cannot_be_drained_completely_is_left_alone() -> None:
    vms = [*_busy("a", 8), vm("es1", "a", usage=0.1, anti_affinity_group="es"),
           vm("es2", "c", usage=0.1, anti_affinity_group="es"), *_idle("c")]  # fmt: skip
    s = snap([host("a"), host("c")], vms)
    plan = plan_power_saving(s, "c", P, steady(s))
    assert not plan.steps
    notes = "\n".join(plan.notes)
    assert "c is under 20% but cannot be drained: es2: a already runs a member" in notes
    pinned = snap([host("a"), host("c")], [*_busy("a", 8), vm("p", "c", usage=0.1, pinned=True)])
    plan = plan_power_saving(pinned, "c", P, steady(pinned))
    assert not plan.steps and "p is pinned to c" in "\n".join(plan.notes)


def test_targets_stay_within_high_utilization() -> None:
    s = snap([host("a"), host("c")], [*_busy("a", 12), vm("c1", "c", vcpus=8, usage=0.3)])
    plan = plan_power_saving(s, "c", P, steady(s))  # c: 15% but its 2.4 CPUs would take a to 90%
    assert not plan.steps
    notes = "\n".join(plan.notes)
    assert "c is under 20% but stays: the cluster needs its capacity" in notes
    assert "the 2 hosts in service are all needed to carry 14.4 CPUs of demand within 80%" in notes


def test_migration_budget_is_per_host_all_or_nothing() -> None:
    s = snap([host("a"), host("c")], _busy("a", 4) + _idle("c", 3))
    plan = plan_power_saving(s, "c", parse_params({**LOW, "MaxMigrationsPerRound": 2}), steady(s))
    assert not plan.steps and "would need 3 migrations; 2 left" in "\n".join(plan.notes)


def test_outside_the_window_nothing_is_drained() -> None:
    s = snap([host("a"), host("c")], _busy("a", 8) + _idle("c"))
    plan = plan_power_saving(s, "c", P, steady(s), consolidate_now=False)
    assert not plan.steps and "no host is drained or released" in "\n".join(plan.notes)


def test_hysteresis_a_recent_power_action_blocks_release() -> None:
    s = snap([host("a"), host("c")], _busy("a", 8) + _idle("c"))
    recent = steady(s, last_power_action=MappingProxyType({"c": NOW - 600}))
    plan = plan_power_saving(s, "c", P, recent)
    assert not plan.steps
    notes = "\n".join(plan.notes)
    assert "last power action was 10 min ago (MinPowerActionIntervalMinutes 30)" in notes
    later = steady(s, last_power_action=MappingProxyType({"c": NOW - 1900}))
    assert plan_power_saving(s, "c", P, later).metrics.hosts_released == 1


def test_parked_hosts_come_back_when_demand_exceeds_running_capacity() -> None:
    off = HostState.NON_RESPONSIVE
    hosts = [host("a"), host("p1", state=HostState.MAINTENANCE, maintenance=True, cpu=None),
             host("p2", state=off, maintenance=True, pm=True, cpus=32)]  # fmt: skip
    parked = MappingProxyType({"p1": NOW - 7200, "p2": NOW - 7200})
    s = snap(hosts, _busy("a", 14))  # 14 CPUs > 12.8 at 80% of 16
    plan = plan_power_saving(s, "c", P, steady(s, parked=parked))
    # the largest parked host first; it is off and has power management: power on, then activate
    assert _kinds(plan) == [("power_on", "p2"), ("activate", "p2")]
    assert "c needs 14.0 CPUs, its hosts in service take 12.8 below 80%" in plan.steps[0].reason
    assert plan.metrics.hosts_woken == 1
    # demand that fits wakes nobody
    calm = snap(hosts, _busy("a", 10))
    assert not plan_power_saving(calm, "c", P, steady(calm, parked=parked)).steps


def test_a_missing_reserve_is_refilled_from_parked_hosts() -> None:
    hosts = [host("a"), host("p1", state=HostState.MAINTENANCE, maintenance=True, cpu=None)]
    s = snap(hosts, _busy("a", 4))
    obs = steady(s, parked=MappingProxyType({"p1": NOW - 7200}))
    plan = plan_power_saving(s, "c", parse_params({**LOW, "HostsInReserve": 1}), obs)
    assert _kinds(plan) == [("activate", "p1")]  # it is connected: no power on needed


def test_hosts_an_operator_put_in_maintenance_are_never_woken() -> None:
    hosts = [host("a"), host("m", state=HostState.MAINTENANCE, maintenance=True, cpu=None)]
    s = snap(hosts, _busy("a", 15))
    plan = plan_power_saving(s, "c", P, steady(s))  # "m" is not in obs.parked
    assert all(st.host != "m" and st.target != "m" for st in plan.steps)


def test_a_parked_host_without_power_management_that_is_off_cannot_be_woken() -> None:
    hosts = [host("a"), host("p", state=HostState.NON_RESPONSIVE, maintenance=True, cpu=None)]
    s = snap(hosts, _busy("a", 15))
    plan = plan_power_saving(s, "c", P, steady(s, parked=MappingProxyType({"p": NOW})))
    assert not any(st.host == "p" for st in plan.steps)
    assert "p was released but is unreachable and has no power management" in "\n".join(plan.notes)


def test_a_hot_host_with_no_room_anywhere_wakes_a_parked_host() -> None:
    hosts = [host("a"), host("b"), host("p", state=HostState.MAINTENANCE, maintenance=True,
                                        cpu=None)]  # fmt: skip
    vms = [vm("big", "a", vcpus=14, usage=1.0), *_busy("b", 2)]  # 16 CPUs of demand in all
    s = snap(hosts, vms)
    plan = plan_power_saving(s, "c", P, steady(s, parked=MappingProxyType({"p": NOW - 7200})))
    assert _kinds(plan) == [("activate", "p")]
    assert "a stays over its limits after every possible move" in plan.steps[0].reason


def test_hot_hosts_are_relieved_first_then_the_round_consolidates() -> None:
    s = snap([host("a"), host("b"), host("c")], _busy("a", 14) + _idle("c"))
    plan = plan_power_saving(s, "c", P, steady(s))
    # relieved onto the fullest host that stays within limits (c), so that b can go
    assert [(s.kind.value, s.host, s.target) for s in plan.steps] == [
        ("migrate", "a", "c"), ("migrate", "a", "c"), ("maintenance", "b", "")
    ]  # fmt: skip
    assert "c is the fullest host that stays within limits" in plan.steps[0].reason
    assert plan.metrics.hosts_over_after == 0 and plan.metrics.hosts_released == 1


def test_no_consolidation_while_a_host_stays_over() -> None:
    vms = [vm("big", "a", vcpus=14, usage=1.0), *_idle("c")]
    s = snap([host("a"), host("b", cpus=8), host("c")], vms)
    plan = plan_power_saving(s, "c", P, steady(s))
    assert not plan.steps and "no consolidation this round" in "\n".join(plan.notes)


def test_a_host_that_received_vms_is_not_drained_in_the_same_round() -> None:
    s = snap([host("a"), host("b"), host("c")], _busy("a", 8) + _idle("b") + _idle("c"))
    plan = plan_power_saving(s, "c", P, Observations(NOW, steady(s).history))
    moved = [st for st in plan.steps if st.kind == StepKind.MIGRATE]
    assert len({st.vm_uuid for st in moved}) == len(moved)  # no VM moves twice
    assert plan.metrics.hosts_released == 2
