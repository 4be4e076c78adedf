"""Moves between kept hosts before the drains (policies.reshape, policies.evict).

Hand-built clusters where the kept hosts' own VMs gave their room the wrong shape: a
memory-rich host out of vCPUs with its memory idle, a CPU-rich host out of memory with vCPUs
idle. The planner before these moves kept the drained host (3 hosts); now it is released, and
every prefix of the plan stays within every limit and filter.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.policy_figures import PARAMS, PRESETS, build
from policies.history import Observations
from policies.params import parse_params
from policies.plan import Plan, StepKind
from policies.power_saving import plan_power_saving
from tests.policies.helpers import NOW, host, snap, steady, vm
from tests.policies.test_plan_properties import _replay

GIB = 1024


def _kept_moves(plan: Plan, kept: set[str]) -> list[str]:
    return [s.vm_name for s in plan.steps if s.kind == StepKind.MIGRATE and s.host in kept]


def _memory_host_and_compute_host(c_memory: int, rich_on_compute: bool) -> list[Any]:
    # m: 4 CPUs (16 vCPUs), 64 GiB: pinned, and out of vCPUs with 47 GiB free.
    # c: 16 CPUs (64 vCPUs), 32 GiB: pinned, 60 vCPUs free, its memory taken by c-pin (and
    # c-x, 2 vCPUs and 20 GiB).
    vms = [
        vm("m-pin", "m", vcpus=4, mem=4 * GIB, usage=0.05, pinned=True),
        vm("m-w1", "m", vcpus=8, mem=8 * GIB, usage=0.05),
        vm("m-w2", "m", vcpus=4, mem=4 * GIB, usage=0.05),
        vm("c-pin", "c", vcpus=2, mem=c_memory * GIB, usage=0.05, pinned=True),
    ]
    if rich_on_compute:
        vms.append(vm("c-x", "c", vcpus=2, mem=20 * GIB, usage=0.05))
    return vms


def _exchange_case() -> Any:
    hosts = [host("m", cpus=4, mem=64 * GIB), host("c", cpus=16, mem=32 * GIB), host("d")]
    vms = _memory_host_and_compute_host(2, rich_on_compute=True)
    vms += [vm(f"d-{i}", "d", vcpus=4, mem=4 * GIB, usage=0.05) for i in range(3)]
    return snap(hosts, vms)


def test_an_exchange_between_kept_hosts_lets_the_drained_host_go() -> None:
    # d runs three VMs of 4 vCPUs / 4 GiB: m has no vCPU for them, c the memory for two
    # (9 GiB usable). Exchanging m-w1 (vCPU-heavy) and c-x (memory-rich) leaves c 21 GiB
    # usable and m 6 vCPUs: all of d's VMs fit on c. Before, d stayed (3 hosts in service):
    # m, out of vCPUs, counted only for what it ran.
    s = _exchange_case()
    params = parse_params({"MaxMigrationsPerRound": 100})
    plan = plan_power_saving(s, "c", params, steady(s))
    assert {h for h, load in plan.after.items() if load.in_service} == {"m", "c"}
    moves = [st for st in plan.steps if st.kind == StepKind.MIGRATE]
    assert [(st.vm_name, st.host, st.target) for st in moves[:2]] == [
        ("m-w1", "m", "c"),
        ("c-x", "c", "m"),
    ]  # the exchange comes first, m-w1 first: m has no vCPU for c-x before m-w1 leaves
    assert "in exchange for c-x" in moves[0].reason
    assert {st.vm_name for st in moves[2:]} == {"d-0", "d-1", "d-2"}
    assert any("move between kept hosts before the drains" in n for n in plan.notes)
    _replay(s, plan, params)  # every step within every limit and filter, each VM moved once


def test_a_memory_rich_vm_goes_where_memory_is_idle_once_a_dense_vm_leaves() -> None:
    # d runs u (2 vCPUs, 24 GiB) and a small VM: c (21 GiB usable) lacks the memory for u,
    # m the vCPUs. A vCPU-heavy VM of m moves to c, and u goes to m. Before, d stayed.
    hosts = [host("m", cpus=4, mem=64 * GIB), host("c", cpus=16, mem=32 * GIB), host("d")]
    vms = _memory_host_and_compute_host(10, rich_on_compute=False)
    vms += [
        vm("d-u", "d", vcpus=2, mem=24 * GIB, usage=0.05),
        vm("d-s", "d", vcpus=1, mem=2 * GIB, usage=0.05),
    ]
    s = snap(hosts, vms)
    params = parse_params({"MaxMigrationsPerRound": 100})
    plan = plan_power_saving(s, "c", params, steady(s))
    assert {h for h, load in plan.after.items() if load.in_service} == {"m", "c"}
    moves = [st for st in plan.steps if st.kind == StepKind.MIGRATE]
    first = moves[0]
    assert first.host == "m" and first.target == "c" and first.vm_name in {"m-w1", "m-w2"}
    assert next(st.target for st in moves if st.vm_name == "d-u") == "m"
    assert plan.metrics.hosts_over_after == 0
    _replay(s, plan, params)


def test_no_move_between_kept_hosts_in_ovirt_mode_or_beyond_the_budget() -> None:
    s = _exchange_case()
    ovirt = parse_params({"ConsolidationMode": "low_utilization", "MaxMigrationsPerRound": 100})
    plan = plan_power_saving(s, "c", ovirt, steady(s))
    assert not _kept_moves(plan, {"m", "c"})  # oVirt's rule: only hosts under Low move VMs
    # 5 migrations release d (an exchange, then d's 3 VMs); with 3 or 4 nothing is released,
    # so nothing moves at all: no exchange made for a drain that does not happen
    for budget in (3, 4):
        tight = parse_params({"MaxMigrationsPerRound": budget})
        plan = plan_power_saving(s, "c", tight, steady(s))
        assert plan.metrics.migrations == 0 and not plan.steps
    plan = plan_power_saving(s, "c", parse_params({"MaxMigrationsPerRound": 5}), steady(s))
    assert plan.metrics.migrations == 5 and plan.metrics.hosts_released == 1


@pytest.mark.parametrize("preset", [p.name for p in PRESETS])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_clusters_plans_keep_every_rule(preset: str, seed: int) -> None:
    # bench's seeded quiet clusters (mixed hardware, pinned VMs, anti-affinity groups), small
    s = build(next(p for p in PRESETS if p.name == preset), 12, 160, 0.15, seed, within=True)
    s = snap(
        [host(h.name, cpus=h.cpus, mem=h.memory_mib) for h in s.hosts],
        [vm(v.name, v.host, vcpus=v.vcpus, mem=v.memory_mib, usage=v.cpu_usage or 0.0,
            pinned=v.pinned, migratable=v.migratable,
            anti_affinity_group=v.anti_affinity_group) for v in s.vms],
        overcommit=s.clusters[0].memory_overcommit_percent,
    )  # fmt: skip
    plan = plan_power_saving(s, "c", PARAMS, Observations(NOW))
    _replay(s, plan, PARAMS)
    assert plan.metrics.hosts_over_after == 0
