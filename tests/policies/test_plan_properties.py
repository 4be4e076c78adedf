"""Properties of every plan, on random clusters (hypothesis).

Whatever the cluster: replaying a plan's migrations in order, each one passes every filter at the
moment it happens; no host that receives VMs ends up over its memory (within over-commit), its
vCPU ratio, HighUtilization or MaxFreeMemoryForOverUtilized; pinned and non-migratable VMs never
move; no VM moves twice; MaxMigrationsPerRound holds; and a power-saving plan never leaves more
hosts in service than before, releases only hosts that are empty by then, and keeps one.

Limits are checked after every step, not only at the end: a plan may be cut short (by the
budget, or by the executor when a premise fails), and every prefix must leave each host that
received VMs within its limits, and no host that is being drained may receive VMs back.
Power saving runs in both consolidation modes, on mixed hardware, with budgets.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ovtui.model import VM, HostState, Snapshot
from policies.balance import plan_balance
from policies.filters import FilterContext, refusal
from policies.history import Observations
from policies.params import Params, parse_params
from policies.plan import Plan, StepKind
from policies.power_saving import plan_power_saving
from policies.state import ClusterState
from tests.policies.helpers import NOW, host, snap, vm

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def clusters(draw: Any) -> tuple[Snapshot, Params]:
    overcommit = draw(st.sampled_from([100, 150]))
    hosts = []
    for i in range(draw(st.integers(1, 8))):
        state = draw(st.sampled_from(["up"] * 6 + ["maintenance", "down"]))
        hosts.append(
            host(
                f"h{i}",
                cpus=draw(st.sampled_from([4, 8, 16, 32])),
                mem=draw(st.sampled_from([8192, 16384, 32768, 65536])),
                maintenance=state == "maintenance",
                state=HostState.DOWN if state == "down" else HostState.UP,
                pm=draw(st.booleans()),
            )
        )
    up = [h for h in hosts if h.state == HostState.UP and not h.maintenance]
    used = {h.name: 0 for h in hosts}
    anti: set[tuple[str, str]] = set()
    vms: list[VM] = []
    for j in range(draw(st.integers(0, 32)) if up else 0):
        h = draw(st.sampled_from(up))
        mem = draw(st.sampled_from([512, 1024, 2048, 4096]))
        group = draw(st.sampled_from(["", "", "", "a1", "a2"]))
        if used[h.name] + mem > h.memory_mib * overcommit // 100 or (h.name, group) in anti:
            continue
        used[h.name] += mem
        if group:
            anti.add((h.name, group))
        flag = draw(st.integers(0, 9))
        vms.append(
            vm(
                f"v{j}",
                h.name,
                vcpus=draw(st.integers(1, 4)),
                mem=mem,
                usage=draw(st.one_of(st.floats(0, 1), st.sampled_from([0.02, 0.9, 1.0]))),
                pinned=flag == 0,
                migratable=flag != 1,
                affinity_group=draw(st.sampled_from(["", "", "", "", "g1"])),
                anti_affinity_group=group,
            )
        )
    high = draw(st.integers(40, 95))
    mode = draw(st.sampled_from(["demand", "low_utilization"]))
    params: dict[str, Any] = {"ConsolidationMode": mode}
    if mode == "low_utilization":
        params["LowUtilization"] = draw(st.integers(1, high - 1))
    else:
        tolerance = draw(st.integers(0, 30))
        params["DemandCapacityRatioTolerance"] = tolerance
        params["DemandCapacityRatioTarget"] = draw(st.integers(max(10, tolerance + 1), 70))
    params |= {
        "HighUtilization": high,
        "CpuOverCommitDurationMinutes": 0,
        "MaxMigrationsPerRound": draw(st.integers(1, 12)),
        "HostsInReserve": draw(st.integers(0, 2)),
        "MaxFreeMemoryForOverUtilized": draw(st.sampled_from([0, 512, 1024])),
        "MaxVcpusPerCpu": draw(st.sampled_from([1.0, 2.0, 4.0])),
    }
    return snap(hosts, vms, overcommit=overcommit), parse_params(params)


def _replay(s: Snapshot, plan: Plan, params: Params) -> ClusterState:
    state = ClusterState.from_snapshot(s, "c")
    moves = [x for x in plan.steps if x.kind == StepKind.MIGRATE]
    assert len(moves) <= params.max_migrations
    assert len({x.vm_uuid for x in moves}) == len(moves), "a VM moved twice"
    received: set[str] = set()
    draining: set[str] = set()
    for step in plan.steps:
        if step.kind == StepKind.MIGRATE:
            current = state.rooms[step.host].vms[step.vm_uuid]
            assert not current.pinned and current.migratable
            companions = frozenset(
                x.vm_uuid for x in moves if x.host == step.host and x.target == step.target
            )
            ctx = FilterContext(state, params, companions)
            assert refusal(ctx, current, state.rooms[step.target]) is None, step
            assert step.target not in draining, f"{step.target} receives VMs while drained"
            state.move(current, step.target)
            received.add(step.target)
            if "draining it frees a host" in step.reason:
                draining.add(step.host)
            _within_limits(state, params, received)
        elif step.kind == StepKind.MAINTENANCE:
            room = state.rooms[step.host]
            assert room.empty and room.in_service, f"{step.host} released while not empty"
            room.in_service = False
        elif step.kind == StepKind.POWER_OFF:
            assert state.rooms[step.host].host.power_management
            assert not state.rooms[step.host].in_service
    _within_limits(state, params, received)
    return state


def _within_limits(state: ClusterState, params: Params, received: set[str]) -> None:
    for name in received:
        room = state.rooms[name]
        assert room.mem_used <= room.mem_limit
        assert room.vcpus <= room.cpus * params.max_vcpus_per_cpu + 1e-9
        assert room.cpu <= params.high + 1e-9
        assert room.mem_free >= params.max_free_memory_over_mib


@SETTINGS
@given(clusters())
def test_balancing_plans_keep_every_rule(case: tuple[Snapshot, Params]) -> None:
    s, params = case
    plan = plan_balance(s, "c", params, Observations(NOW))
    event(f"balancing migrations: {min(plan.metrics.migrations, 3)}")
    _replay(s, plan, params)
    assert plan.metrics.hosts_in_service_after == plan.metrics.hosts_in_service_before


@SETTINGS
@given(clusters())
def test_power_saving_plans_keep_every_rule_and_never_need_more_hosts(
    case: tuple[Snapshot, Params],
) -> None:
    s, params = case
    before = sum(1 for h in s.hosts if h.state == HostState.UP and not h.maintenance)
    plan = plan_power_saving(s, "c", params, Observations(NOW))
    event(f"hosts released: {min(plan.metrics.hosts_released, 2)}")
    state = _replay(s, plan, params)
    after = sum(1 for r in state.rooms.values() if r.in_service)
    assert after <= before
    assert after >= min(before, 1)
    assert plan.metrics.hosts_in_service_after == after
    assert sum(len(r.vms) for r in state.rooms.values()) == sum(1 for v in s.vms if v.active)
    released = {x.host for x in plan.steps if x.kind == StepKind.MAINTENANCE}
    assert not released & {x.target for x in plan.steps if x.kind == StepKind.MIGRATE}
    drained = {x.host for x in plan.steps if "draining it frees a host" in x.reason}
    assert all(state.rooms[h].empty for h in drained), "a host was drained only in part"
    assert len(drained - released) <= params.hosts_in_reserve  # the rest: empty, in reserve
