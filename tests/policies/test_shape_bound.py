"""The shape bound (bench.shape_bound): hosts grouped by kind, each VM a whole bundle of CPU
demand, memory and vCPUs placed on one kind. Checked against an exhaustive search over every
placement of small clusters (it must never be above the fewest hosts a real placement needs),
against the joint covering bound (never below it), and on a case built to be above it."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest

from bench.policy_figures import (
    NOW,
    PARAMS,
    PRESETS,
    QUIET,
    Preset,
    build,
    lower_bound,
    shape_figures,
    shapes,
)
from bench.shape_bound import shape_bound
from policies.bound import Capacity
from policies.history import Observations
from policies.joint_bound import joint_bound
from policies.plan import StepKind
from policies.power_saving import plan_power_saving

Vm = tuple[Capacity, int | None]  # need, index of the host it must stay on


def _packs(room: list[list[float]], vms: Sequence[Capacity]) -> bool:
    """Whether the VMs fit, each whole on one host, in what the hosts have left."""
    if not vms:
        return True
    first, rest = vms[0], vms[1:]
    tried: set[tuple[float, ...]] = set()
    for left in room:
        if tuple(left) in tried:  # hosts with the same room left are the same choice
            continue
        tried.add(tuple(left))
        need = first.as_tuple()
        if all(x <= c + 1e-9 for x, c in zip(need, left, strict=True)):
            for d in range(3):
                left[d] -= need[d]
            ok = _packs(room, rest)
            for d in range(3):
                left[d] += need[d]
            if ok:
                return True
    return False


def _fewest_hosts(hosts: list[Capacity], forced: list[bool], vms: list[Vm]) -> int:
    """The fewest hosts, the forced ones among them, that hold every VM, each whole on one host
    within its capacity and those that must stay on their host (len(hosts) + 1: none do)."""
    free = [i for i, f in enumerate(forced) if not f]
    fixed = [i for i, f in enumerate(forced) if f]
    movable = sorted((n for n, home in vms if home is None), key=lambda c: c.as_tuple())[::-1]
    for k in range(len(free) + 1):
        for chosen in itertools.combinations(free, k):
            room = {i: list(hosts[i].as_tuple()) for i in (*fixed, *chosen)}
            for need, home in vms:
                if home is not None:
                    for d in range(3):
                        room[home][d] -= need.as_tuple()[d]
            if any(x < -1e-9 for left in room.values() for x in left):
                continue
            if _packs(list(room.values()), movable):
                return max(k + len(fixed), 1)
    return len(hosts) + 1


def _bound(hosts: list[Capacity], forced: list[bool], vms: list[Vm], **kw: float) -> int:
    return shape_bound(
        [h for h, f in zip(hosts, forced, strict=True) if not f],
        [h for h, f in zip(hosts, forced, strict=True) if f],
        [(n, None if home is None else hosts[home]) for n, home in vms],
        **kw,
    ).hosts


def _joint(hosts: list[Capacity], forced: list[bool], vms: list[Vm]) -> int:
    need = tuple(sum(n.as_tuple()[d] for n, _ in vms) for d in range(3))
    return joint_bound(
        need,
        [h for h, f in zip(hosts, forced, strict=True) if not f],
        [h for h, f in zip(hosts, forced, strict=True) if f],
    )


def test_bundles_cannot_take_one_kinds_memory_and_the_others_vcpus() -> None:
    # CPU-rich hosts (8 vCPUs, 2 GiB) and memory-rich ones (2 vCPUs, 8 GiB); eight VMs of 1
    # vCPU and 1 GiB. One host of each kind has 10 vCPUs and 10 GiB: the joint bound says 2.
    # But a VM's memory and vCPUs go to the same host: each host holds 2 of them, so 4 hosts.
    cpu_rich, mem_rich = Capacity(8.0, 2.0, 8.0), Capacity(8.0, 8.0, 2.0)
    hosts = [cpu_rich] * 3 + [mem_rich] * 3
    forced = [False] * 6
    vms: list[Vm] = [(Capacity(0.5, 1.0, 1.0), None)] * 8
    assert _joint(hosts, forced, vms) == 2
    result = shape_bound(hosts, [], [(n, None) for n, _ in vms])
    assert result.hosts == 4 == _fewest_hosts(hosts, forced, vms)
    assert result.exact
    assert sum(result.mix.values()) == 4


def test_a_vm_that_must_stay_weighs_on_its_own_kind() -> None:
    # two 4-vCPU hosts of a small kind and two 16-vCPU ones; the two 4-vCPU VMs pinned to the
    # small hosts fill them, so the four movable 4-vCPU VMs need a large host: 3. Were the pinned
    # VMs free, one large host and the two small (forced) ones would still be 3 hosts; with
    # nothing pinned, 2 large hosts hold all six.
    small, large = Capacity(10.0, 10.0, 4.0), Capacity(10.0, 40.0, 16.0)
    hosts = [small, small, large, large]
    vm = Capacity(1.0, 4.0, 4.0)
    pinned: list[Vm] = [(vm, 0), (vm, 1), *[(vm, None)] * 4]
    forced = [True, True, False, False]
    assert _bound(hosts, forced, pinned) == 3 == _fewest_hosts(hosts, forced, pinned)
    loose: list[Vm] = [(vm, None)] * 6
    assert _bound(hosts, [False] * 4, loose) == 2 == _fewest_hosts(hosts, [False] * 4, loose)


def test_a_vm_too_large_for_every_host_of_a_kind_never_goes_there() -> None:
    # 3 small hosts hold 12 vCPUs in all, but a VM of 8 vCPUs fits on none of them
    small, large = Capacity(10.0, 100.0, 4.0), Capacity(10.0, 100.0, 8.0)
    vms = [(Capacity(1.0, 1.0, 8.0), None)]
    assert shape_bound([small] * 3, [], vms).hosts == 4  # none can: every host + 1
    assert shape_bound([small] * 3 + [large], [], vms).hosts == 1


def test_an_impossible_cluster_and_an_empty_one() -> None:
    cap = Capacity(10.0, 10.0, 10.0)
    assert shape_bound([cap] * 2, [cap], [(Capacity(1.0, 11.0, 1.0), None)]).hosts == 4
    assert shape_bound([cap] * 2, [cap], [(Capacity(5.0, 5.0, 5.0), None)] * 7).hosts == 4
    assert shape_bound([cap] * 4, [], []).hosts == 1  # a cluster keeps one host
    assert shape_bound([], [cap, cap], []).hosts == 2


def test_never_above_a_real_placement_nor_below_the_joint_bound() -> None:
    rng = random.Random(26)
    above = 0
    for _ in range(250):
        kinds = [
            Capacity(*(float(rng.randint(2, 8)) for _ in range(3)))
            for _ in range(rng.randint(1, 3))
        ]
        hosts = [rng.choice(kinds) for _ in range(rng.randint(1, 5))]
        forced = [rng.random() < 0.25 for _ in hosts]
        vms: list[Vm] = []
        for _ in range(rng.randint(0, 6)):
            need = Capacity(
                rng.uniform(0.0, 3.0), float(rng.randint(1, 4)), float(rng.randint(1, 4))
            )
            at = [i for i, f in enumerate(forced) if f]
            vms.append((need, rng.choice(at) if at and rng.random() < 0.2 else None))
        truth = _fewest_hosts(hosts, forced, vms)
        joint = _joint(hosts, forced, vms)
        rounded, unrounded = _bound(hosts, forced, vms), _bound(hosts, forced, vms, cpu_step=0)
        assert joint <= rounded <= unrounded <= truth
        above += unrounded > joint
    assert above >= 10  # the shapes matter in many of these clusters, not only in the built one


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_the_bench_column_lies_between_the_joint_bound_and_the_plan(preset: Preset) -> None:
    # a seeded 10 x 100 cluster of each preset: the plan's end state is a real placement
    snap = build(preset, 10, 100, load=QUIET, seed=6, within=True)
    plan = plan_power_saving(snap, "bench", PARAMS, Observations(NOW))
    figures = shape_figures(snap, PARAMS, plan)
    assert lower_bound(snap, PARAMS, joint=True) <= figures["bound_shape"]
    assert figures["bound_shape"] <= plan.metrics.hosts_in_service_after
    assert figures["shape_exact"]
    free, fixed, vms, by_name = shapes(snap, PARAMS)
    assert shape_bound(free, fixed, vms, cpu_step=0).hosts == figures["bound_shape"]
    # the plan's end state is within the limits the bound counts, host by host
    where = {v.uuid: v.host for v in snap.vms if v.active}
    where |= {s.vm_uuid: s.target for s in plan.steps if s.kind == StepKind.MIGRATE}
    used = {h: [0.0, 0.0, 0.0] for h in by_name}
    for v in snap.vms:
        if v.active:
            for d, x in enumerate(((v.cpu_usage or 0.0) * v.vcpus, v.memory_mib, v.vcpus)):
                used[where[v.uuid]][d] += x
    for h, load in plan.after.items():
        assert load.in_service or used[h] == [0.0, 0.0, 0.0]
        assert all(x <= c + 1e-9 for x, c in zip(used[h], by_name[h].as_tuple(), strict=True))
    assert sum(int(k.split(":")[1]) for k in figures["shape_mix"].split()) == figures["bound_shape"]
