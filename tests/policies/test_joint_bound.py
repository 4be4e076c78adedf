"""The joint lower bound (policies.joint_bound): one set of hosts, the fixed ones among them,
covers every resource at once; checked against the per-resource bound, policies.bound's mixes
and an exhaustive search over every set of hosts of small clusters."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest

from bench.policy_figures import PARAMS, PRESETS, QUIET, Preset, build, capacities, lower_bound
from policies.bound import Capacity
from policies.bound import lower_bound as mix_bound
from policies.joint_bound import joint_bound


def _exhaustive(need: Sequence[float], hosts: list[Capacity], fixed: list[Capacity]) -> int:
    """The fewest hosts of any set that holds the fixed ones and covers `need`."""
    for k in range(len(hosts) + 1):
        for chosen in itertools.combinations(hosts, k):
            kept = [*chosen, *fixed]
            if all(sum(h.as_tuple()[d] for h in kept) >= x - 1e-9 for d, x in enumerate(need)):
                return max(k + len(fixed), 1)
    return len(hosts) + len(fixed) + 1


def test_one_set_must_cover_cpu_and_memory_where_each_resource_alone_says_fewer() -> None:
    # CPU-rich hosts (4 CPUs of demand, 1 GiB) and memory-rich ones (1, 4). Two CPU-rich hosts
    # cover the CPU (8 >= 6), one memory-rich host the memory (4 >= 3): the bound says
    # 2. But two CPU-rich hosts hold 2 GiB, and a CPU-rich with a memory-rich one 5 CPUs: no
    # two hosts cover both, three do (two CPU-rich and a memory-rich one).
    cpu_rich, mem_rich = Capacity(4.0, 1.0, 0.0), Capacity(1.0, 4.0, 0.0)
    hosts = [cpu_rich] * 3 + [mem_rich] * 3
    need = (6.0, 3.0, 0.0)
    assert mix_bound(need, hosts, steps=1) == 2  # each resource on its own
    assert mix_bound(need, hosts) == 2  # every mix of policies.bound's grid too
    assert joint_bound(need, hosts) == 3 == _exhaustive(need, hosts, [])


def test_fixed_hosts_are_in_the_set_whatever_their_size() -> None:
    big, small = Capacity(10.0, 10.0, 10.0), Capacity(1.0, 1.0, 1.0)
    # the two small fixed hosts count (2 of 13), then two big ones; one big one covers 12
    assert joint_bound((13.0, 13.0, 0.0), [big] * 3, fixed=[small, small]) == 4
    assert joint_bound((12.0, 12.0, 0.0), [big] * 3, fixed=[small, small]) == 3
    # fixed hosts that cover everything: the bound is theirs alone
    assert joint_bound((5.0, 5.0, 5.0), [big] * 3, fixed=[big, small]) == 2


def test_an_impossible_need_and_an_empty_one() -> None:
    cap = Capacity(10.0, 10.0, 10.0)
    assert joint_bound((100.0, 0.0, 0.0), [cap] * 4, fixed=[cap]) == 6  # even all cannot
    assert joint_bound((0.0, 0.0, 0.0), [cap] * 4) == 1  # a cluster keeps one host
    assert joint_bound((1.0, 1.0, 1.0), [], fixed=[cap, cap]) == 2


def test_exact_on_small_clusters_and_never_below_the_mixes() -> None:
    rng = random.Random(14)
    for _ in range(400):
        kinds = [
            Capacity(*(float(rng.randint(0, 6)) for _ in range(3)))
            for _ in range(rng.randint(1, 3))
        ]
        hosts = [rng.choice(kinds) for _ in range(rng.randint(0, 7))]
        fixed = [
            Capacity(*(float(rng.randint(0, 3)) for _ in range(3)))
            for _ in range(rng.randint(0, 2))
        ]
        need = tuple(rng.uniform(0.0, 20.0) for _ in range(3))
        joint = joint_bound(need, hosts, fixed)
        assert joint == _exhaustive(need, hosts, fixed)
        assert joint >= mix_bound(need, hosts, fixed)  # a set that covers all covers each mix


def test_the_search_gives_up_rather_than_run_away() -> None:
    kinds = [Capacity(float(i), float(10 - i), 1.0) for i in range(1, 10)]
    with pytest.raises(ValueError, match="choices"):
        joint_bound((200.0, 200.0, 40.0), kinds * 10, max_nodes=1_000)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_the_bench_column_is_the_fewest_hosts_that_keep_the_pinned_ones(preset: Preset) -> None:
    # a seeded 10 x 100 cluster of each preset against every set of its hosts that keeps the
    # hosts of pinned and non-migratable VMs
    snap = build(preset, 10, 100, load=QUIET, seed=6, within=True)
    need, free, fixed = capacities(snap, PARAMS, pinned=True)
    assert fixed  # the preset pins VMs: some hosts must stay
    joint = lower_bound(snap, PARAMS, joint=True)
    assert joint == _exhaustive(need, free, fixed)
    assert joint >= lower_bound(snap, PARAMS, pinned=True)
