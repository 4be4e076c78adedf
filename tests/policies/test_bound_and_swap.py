"""Issue 14: the lower bound on hosts (policies.bound), keepers that count whole VMs, and the
swap that makes room for a VM that fits on no kept host (policies.swap)."""

from __future__ import annotations

from policies.bound import Capacity, host_capacity, lower_bound, memory_step
from policies.packing import Packing
from policies.params import parse_params
from policies.placement import Headroom, Placement, Unit, units_on
from policies.power_saving import plan_power_saving
from policies.state import ClusterState
from policies.swap import make_room
from tests.policies.helpers import host, snap, steady, vm
from tests.policies.test_plan_properties import _replay

GIB = 1024


def test_whole_vms_round_each_host_down_to_what_vms_of_these_sizes_can_fill() -> None:
    # 7 GiB usable per host; every VM is 2 GiB, so a host holds 6 GiB: 20 GiB need 4 hosts,
    # where the plain division says 3.
    assert memory_step([2 * GIB, 4 * GIB, 8 * GIB]) == 2 * GIB
    plain = host_capacity(4, 8 * GIB, cpu_share=0.8, keep_free_mib=GIB, vcpus_per_cpu=4)
    whole = host_capacity(
        4, 8 * GIB, cpu_share=0.8, keep_free_mib=GIB, vcpus_per_cpu=4, mem_step_mib=2 * GIB
    )
    assert (plain.memory, whole.memory) == (7 * GIB, 6 * GIB)
    assert lower_bound((0.0, 20.0 * GIB, 10.0), [plain] * 5) == 3
    assert lower_bound((0.0, 20.0 * GIB, 10.0), [whole] * 5) == 4


def test_vcpus_count_as_a_resource() -> None:
    cap = host_capacity(8, 64 * GIB, cpu_share=0.8, keep_free_mib=GIB, vcpus_per_cpu=2.5)
    assert cap.vcpus == 20  # whole vCPUs
    # memory and CPU fit on one host; 50 vCPUs need three
    assert lower_bound((1.0, 8.0 * GIB, 50.0), [cap] * 5) == 3


def test_resources_together_beat_each_resource_on_its_own() -> None:
    # CPU-rich and memory-rich hosts: one of either covers one resource, but no single host
    # covers both. Each resource on its own says 1; the mix says 2, the truth.
    cpu_rich, mem_rich = Capacity(10.0, 1.0, 100.0), Capacity(1.0, 10.0, 100.0)
    hosts = [cpu_rich] * 3 + [mem_rich] * 3
    assert lower_bound((10.0, 10.0, 0.0), hosts, steps=1) == 1
    assert lower_bound((10.0, 10.0, 0.0), hosts) == 2


def test_fixed_hosts_count_first_and_an_impossible_need_says_so() -> None:
    cap = Capacity(10.0, 10.0, 10.0)
    assert lower_bound((10.0, 10.0, 10.0), [cap] * 4, fixed=[cap, cap]) == 2
    assert lower_bound((25.0, 0.0, 0.0), [cap] * 4, fixed=[cap]) == 3
    assert lower_bound((100.0, 0.0, 0.0), [cap] * 4) == 5  # even all of them cannot


def test_keepers_count_whole_vms_so_the_packing_does_not_fall_short() -> None:
    # 5 hosts of 8 GiB with 2 VMs of 2 GiB each (20 GiB): with 1 GiB kept free a host holds 3
    # VMs, so 4 hosts stay. The old keepers counted 7 GiB per host, kept 3, and the packing
    # then failed on a VM and kept a fourth, saying it fit nowhere.
    names = [f"h{i}" for i in range(5)]
    hosts = [host(n, cpus=4, mem=8 * GIB) for n in names]
    vms = [vm(f"{n}-{j}", n, vcpus=1, mem=2 * GIB, usage=0.1) for n in names for j in range(2)]
    s = snap(hosts, vms)
    plan = plan_power_saving(s, "c", parse_params({"MaxMigrationsPerRound": 100}), steady(s))
    assert plan.metrics.hosts_in_service_after == 4 and plan.metrics.hosts_over_after == 0
    carry = [n for n in plan.notes if "hosts in service carry" in n]
    assert carry and carry[0].startswith("4 of 5 hosts in service carry")
    assert "keeps fewer than 4" in carry[0]
    assert not [n for n in plan.notes if "fit on no kept host" in n or "stays, to take" in n]


def test_a_swap_of_two_placed_vms_makes_room_for_a_vm_that_fits_nowhere() -> None:
    # Kept p: 16 vCPUs, 15 GiB usable; it runs 12 vCPUs / 2 GiB (pinned) and took w (3 vCPUs,
    # 3 GiB): 1 vCPU and 10 GiB left. Kept q runs 1 vCPU / 12 GiB (pinned) and took x (1 vCPU,
    # 3 GiB): 14 vCPUs and no memory left. u (2 vCPUs, 4 GiB) fits on neither; with w on q and
    # x on p instead, p has 3 vCPUs and 10 GiB left and takes u.
    hosts = [host(n, cpus=4, mem=16 * GIB) for n in ("p", "q", "d")]
    vms = [
        vm("p-own", "p", vcpus=12, mem=2 * GIB, usage=0.05, pinned=True),
        vm("q-own", "q", vcpus=1, mem=12 * GIB, usage=0.05, pinned=True),
        vm("w", "d", vcpus=3, mem=3 * GIB, usage=0.05),
        vm("x", "d", vcpus=1, mem=3 * GIB, usage=0.05),
        vm("u", "d", vcpus=2, mem=4 * GIB, usage=0.05),
    ]
    s = snap(hosts, vms)
    params = parse_params({"MaxMigrationsPerRound": 100})
    state = ClusterState.from_snapshot(s, "c")
    p, q, d = (state.rooms[n] for n in ("p", "q", "d"))
    units = {u.vms[0].name: u for u in units_on(state, d)[0]}
    index = Headroom([p, q], params.high, params.max_vcpus_per_cpu)
    run = Packing(state, params, index, {"d": []}, {}, [])
    for name, target in (("w", p), ("x", q)):
        unit = units[name]
        for v in unit.vms:
            state.move(v, target.name)
        index.update(target)
        run.land("d", Placement(unit, target, 0.0, 0.0))
    u: Unit = units["u"]
    found, _ = run.put(u)
    assert found is None  # fits on no kept host as they stand
    placed = make_room(run, u, "d")
    assert placed is not None and placed.target is p
    assert {v: state.where[f"u-{v}"] for v in ("w", "x", "u")} == {"w": "q", "x": "p", "u": "p"}
    assert {pl.unit.vms[0].name: pl.target.name for pl in run.placed["d"]} == {
        "w": "q",
        "x": "p",
        "u": "p",
    }
    for room in (p, q):
        assert room.vcpus <= params.max_vcpus_per_cpu * room.cpus
        assert room.mem_free >= params.max_free_memory_over_mib
        assert room.cpu <= params.high


def test_a_round_releases_both_drained_hosts_thanks_to_a_swap_and_every_prefix_is_valid() -> None:
    # p runs 12 vCPUs (pinned), q 10 GiB (pinned): 16 vCPUs and 15 GiB usable each. Largest
    # first, the VMs of d1 and d2 leave one VM with nowhere to go (p has the memory but not the
    # vCPUs, q the vCPUs but not the memory); the old planner kept d1 for it (3 hosts), a swap
    # of two placed VMs' targets lets both go.
    hosts = [host(n, cpus=4, mem=16 * GIB) for n in ("p", "q", "d1", "d2")]
    vms = [
        vm("p-own", "p", vcpus=12, mem=2 * GIB, usage=0.05, pinned=True),
        vm("q-own", "q", vcpus=2, mem=10 * GIB, usage=0.05, pinned=True),
        vm("d1-0", "d1", vcpus=1, mem=2 * GIB, usage=0.05),
        vm("d2-0", "d2", vcpus=4, mem=3 * GIB, usage=0.05),
        vm("d2-1", "d2", vcpus=3, mem=1 * GIB, usage=0.05),
        vm("d2-2", "d2", vcpus=3, mem=4 * GIB, usage=0.05),
    ]
    s = snap(hosts, vms)
    params = parse_params({"MaxMigrationsPerRound": 100})
    plan = plan_power_saving(s, "c", params, steady(s))
    assert {h for h, load in plan.after.items() if load.in_service} == {"p", "q"}
    assert plan.metrics.migrations == 4 and plan.metrics.hosts_over_after == 0
    swapped = {st.vm_name for st in plan.steps if "(swapped targets)" in st.reason}
    assert swapped == {"d1-0", "d2-0", "d2-2"}  # each says why its target is not the obvious one
    _replay(s, plan, params)  # every step within every limit and filter, each VM moved once
