"""HA restart placement and the HA reservation: scheduler filters and weights, priorities."""

from __future__ import annotations

from ovtui.model import HostState, VmState
from policies.ha_reservation import ha_reservation
from policies.ha_restart import plan_restarts
from tests.policies.helpers import host, snap, vm


def _down(name: str, on: str, **kw) -> object:  # type: ignore[no-untyped-def]
    return vm(name, on, state=VmState.UNKNOWN, highly_available=True, **kw)


def test_highest_priority_first_and_every_filter_applies() -> None:
    a, b = _down("a", "h1", mem=8192), _down("b", "h1", mem=8192)
    s = snap(
        [host("h1", state=HostState.NON_RESPONSIVE), host("h2", mem=10240), host("h3", mem=4096)],
        [a, b],  # type: ignore[list-item]
    )
    restarts, unplaced = plan_restarts(s, [a, b], {"u-a": 10, "u-b": 90})  # type: ignore[list-item]
    assert [(r.vm_name, r.target) for r in restarts] == [("b", "h2")]
    assert "HA priority 90" in restarts[0].reason
    (u,) = unplaced  # a: h2 is full now, h3 too small, h1 is not up
    assert u.vm_name == "a" and "needs 8 GiB" in u.reason


def test_anti_affinity_and_cpu_model_filters_refuse_hosts() -> None:
    x = _down("x", "h1", anti_affinity_group="g")
    other = vm("y", "h2", anti_affinity_group="g")
    s = snap([host("h1", state=HostState.NON_RESPONSIVE), host("h2"), host("h3", cpu_model="old")],
             [x, other])  # type: ignore[list-item]  # fmt: skip
    restarts, unplaced = plan_restarts(s, [x], {})  # type: ignore[list-item]
    assert not restarts
    assert "h2 runs y" in unplaced[0].reason or "anti-affinity" in unplaced[0].reason
    assert "old" in unplaced[0].reason


def test_reservation_says_whether_any_single_host_failure_is_covered() -> None:
    ha1 = vm("ha1", "h1", mem=6000, highly_available=True)
    ha2 = vm("ha2", "h2", mem=6000, highly_available=True)
    ok = ha_reservation(snap([host("h1", mem=16384), host("h2", mem=16384)], [ha1, ha2]), "c", {})
    assert ok.ok and ok.ha_vms == 2
    tight = ha_reservation(snap([host("h1", mem=8192), host("h2", mem=8192)], [ha1, ha2]), "c", {})
    assert not tight.ok and tight.detail.startswith("if h1 fails, ha1 cannot restart")


def test_reservation_of_a_cluster_is_the_same_beside_other_clusters() -> None:
    """ha_reservation looks only at the cluster's hosts and their VMs (found once, not scanned
    per host across the fleet): other clusters around it change nothing."""
    from dataclasses import replace

    ha1 = vm("ha1", "h1", mem=6000, highly_available=True)
    ha2 = vm("ha2", "h2", mem=6000, highly_available=True)
    for mem in (16384, 8192):
        alone = snap([host("h1", mem=mem), host("h2", mem=mem)], [ha1, ha2])
        xa = vm("xa", "x1", mem=3000, highly_available=True)
        others = snap(
            [host("x1", mem=4096), host("x2")], [xa, vm("xb", "x2", highly_available=True)]
        )
        moved = tuple(replace(h, cluster="other") for h in others.hosts)
        mixed = replace(
            alone,
            hosts=(moved[0], *alone.hosts, moved[1]),
            vms=(others.vms[0], ha1, others.vms[1], ha2),
        )
        assert ha_reservation(mixed, "c", {}) == ha_reservation(alone, "c", {})
