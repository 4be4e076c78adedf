"""The resiliency policy for a non-operational host, pure and through the engine."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ovtui.model import HostState
from ovtui.testdriver_fleet import ClusterSpec, DatacenterSpec, FleetSpec, HostSpec, VmSpec
from policies.resiliency import resiliency_plan
from tests.conftest import API, eventually, fleet_config
from tests.policies.helpers import host, snap, vm


def _snap(policy: str):  # type: ignore[no-untyped-def]
    s = snap([host("h1"), host("h2", state=HostState.NON_OPERATIONAL), host("h3")],
             [vm("a", "h2", highly_available=True), vm("b", "h2"), vm("c", "h1")])  # fmt: skip
    return replace(s, clusters=(replace(s.clusters[0], resiliency=policy),))


def test_migrate_moves_everything_ha_only_the_ha_vms_none_nothing() -> None:
    moves, _ = resiliency_plan(_snap("migrate"), "h2")
    assert sorted(m.vm_name for m in moves) == ["a", "b"]
    assert all(m.target in ("h1", "h3") for m in moves)
    assert moves[0].reason.startswith("h2 is non-operational (); resiliency migrate: ")
    moves, _ = resiliency_plan(_snap("migrate_ha_only"), "h2")
    assert [m.vm_name for m in moves] == ["a"]
    assert resiliency_plan(_snap("none"), "h2") == ([], [])
    assert resiliency_plan(_snap("migrate"), "h1") == ([], [])  # up: not this policy's


def _spec() -> FleetSpec:
    sky = "Skylake-Server"
    h2 = (VmSpec("ha-1", 1, 512, "web", ha=True), VmSpec("plain-1", 1, 512, "web"))
    hosts = (
        HostSpec("h1", "c1", 8, 16384, sky, 2400, ()),
        HostSpec("h2", "c1", 8, 16384, sky, 2400, h2),
    )
    return FleetSpec((DatacenterSpec("dc1"),), (ClusterSpec("c1", "dc1", sky),), hosts)


def _unfit_h2(root: Path) -> None:
    """h2 reports another CPU model than its cluster's: reachable but non-operational."""
    (node,) = root.rglob("h2.xml")
    node.write_text(node.read_text().replace("Skylake-Server", "EPYC-Rome"))


def test_the_engine_moves_the_ha_vms_of_a_non_operational_host(start_engine) -> None:  # type: ignore[no-untyped-def]
    config = fleet_config(_spec(), prepare=_unfit_h2)
    clusters = [c.model_copy(update={"resiliency": "migrate_ha_only"}) for c in config.clusters]
    live = start_engine(config=config.model_copy(update={"clusters": clusters}))
    admin = live.as_role("SuperUser")
    assert admin.get(f"{API}/hosts/h2").json()["state"] == "non_operational"
    where = lambda name: admin.get(f"{API}/vms/{name}").json()["host"]  # noqa: E731
    eventually(lambda: where("ha-1") == "h1", timeout=30, what="ha-1 moved to h1")
    assert where("plain-1") == "h2"
    (rec,) = [r for r in live.engine.migrations.tail(10) if r["vm"] == "ha-1"]
    assert (rec["actor"], rec["result"], rec["target"]) == ("system:ha", "succeeded", "h1")
