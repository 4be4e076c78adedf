"""Each host filter on its own: it refuses exactly what it should, and says why."""

from __future__ import annotations

from dataclasses import replace

from ovtui.model import HostState
from policies.filters import FILTERS, FilterContext, refusal
from policies.filters.affinity import AffinityFilter
from policies.filters.anti_affinity import AntiAffinityFilter
from policies.filters.cpu_model import CpuModelFilter
from policies.filters.host_state import HostStateFilter
from policies.filters.memory import MemoryFilter
from policies.filters.movable import MovableFilter
from policies.filters.same_cluster import SameClusterFilter
from policies.filters.vcpu_ratio import VcpuRatioFilter
from policies.params import parse_params
from policies.state import ClusterState
from tests.policies.helpers import host, snap, vm


def _ctx(hosts, vms, companions=frozenset(), **params):  # type: ignore[no-untyped-def]
    state = ClusterState.from_snapshot(snap(hosts, vms), "c")
    return FilterContext(state, parse_params(params), frozenset(companions)), state


def test_movable_refuses_pinned_and_non_migratable_vms_anywhere_but_home() -> None:
    p, n = vm("p", "a", pinned=True), vm("n", "a", migratable=False)
    ctx, st = _ctx([host("a"), host("b")], [p, n])
    f = MovableFilter()
    assert f.refuse(ctx, p, st.rooms["b"]) == "p is pinned to a"
    assert f.refuse(ctx, n, st.rooms["b"]) == "n is marked non-migratable"
    assert f.refuse(ctx, p, st.rooms["a"]) is None


def test_same_cluster() -> None:
    v = vm("v", "a")
    ctx, st = _ctx([host("a"), host("b")], [v])
    assert SameClusterFilter().refuse(ctx, replace(v, cluster="other"), st.rooms["b"])
    assert SameClusterFilter().refuse(ctx, v, st.rooms["b"]) is None


def test_cpu_model_must_be_the_clusters_and_known() -> None:
    v = vm("v", "a")
    ctx, st = _ctx([host("a"), host("x", cpu_model="EPYC"), host("u", cpu_model="")], [v])
    f = CpuModelFilter()
    assert f.refuse(ctx, v, st.rooms["x"]) == "x has CPU model EPYC, cluster needs m"
    assert f.refuse(ctx, v, st.rooms["u"]) == "u's CPU model is not known yet"
    assert f.refuse(ctx, v, st.rooms["a"]) is None


def test_host_state_up_in_service_and_measured() -> None:
    v = vm("v", "a")
    hosts = [host("a"), host("m", maintenance=True), host("d", state=HostState.DOWN),
             host("u", cpu=None)]  # fmt: skip
    ctx, st = _ctx(hosts, [v])
    f = HostStateFilter()
    assert f.refuse(ctx, v, st.rooms["m"]) == "m is in maintenance"
    assert f.refuse(ctx, v, st.rooms["d"]) == "d is down"
    assert f.refuse(ctx, v, st.rooms["u"]) == "u has no CPU measurement yet"
    assert f.refuse(ctx, v, st.rooms["a"]) is None


def test_memory_within_the_clusters_over_commit() -> None:
    v = vm("v", "a", mem=4096)
    hosts = [host("a"), host("b", mem=8192)]
    ctx, st = _ctx(hosts, [v, vm("w", "b", mem=6144)])
    assert (
        MemoryFilter().refuse(ctx, v, st.rooms["b"])
        == "v needs 4 GiB, b has 2 GiB left within 100% over-commit"
    )
    state = ClusterState.from_snapshot(
        snap(hosts, [v, vm("w", "b", mem=6144)], overcommit=150), "c"
    )
    ctx150 = FilterContext(state, parse_params({}))
    assert MemoryFilter().refuse(ctx150, v, state.rooms["b"]) is None


def test_vcpu_ratio() -> None:
    v = vm("v", "a", vcpus=4)
    ctx, st = _ctx([host("a"), host("b", cpus=2)], [v, vm("w", "b", vcpus=5)], MaxVcpusPerCpu=4)
    assert VcpuRatioFilter().refuse(ctx, v, st.rooms["b"]) == (
        "b would commit 9 vCPUs on 2 CPUs (MaxVcpusPerCpu 4)"
    )
    ctx, st = _ctx([host("a"), host("b", cpus=2)], [v, vm("w", "b", vcpus=4)], MaxVcpusPerCpu=4)
    assert VcpuRatioFilter().refuse(ctx, v, st.rooms["b"]) is None


def test_anti_affinity() -> None:
    v = vm("v", "a", anti_affinity_group="g")
    ctx, st = _ctx([host("a"), host("b"), host("c")], [v, vm("w", "b", anti_affinity_group="g")])
    f = AntiAffinityFilter()
    assert f.refuse(ctx, v, st.rooms["b"]) == "b already runs a member of anti-affinity group g"
    assert f.refuse(ctx, v, st.rooms["c"]) is None
    assert f.refuse(ctx, v, st.rooms["a"]) is None  # itself does not count


def test_affinity_needs_the_group_on_the_target_unless_it_moves_along() -> None:
    v, w = vm("v", "a", affinity_group="g"), vm("w", "a", affinity_group="g")
    ctx, st = _ctx([host("a"), host("b")], [v, w])
    f = AffinityFilter()
    assert f.refuse(ctx, v, st.rooms["b"]) == "v must stay with w (affinity group g) on a"
    together, st2 = _ctx([host("a"), host("b")], [v, w], companions={"u-v", "u-w"})
    assert f.refuse(together, v, st2.rooms["b"]) is None


def test_refusal_runs_every_filter_and_returns_the_first_reason() -> None:
    v = vm("v", "a", pinned=True)
    ctx, st = _ctx([host("a"), host("m", maintenance=True)], [v])
    assert refusal(ctx, v, st.rooms["m"]) == "v is pinned to a"
    assert len(FILTERS) == 10 and len({f.name for f in FILTERS}) == 10
