"""The maintenance evacuation planner on hand-built snapshots."""

from __future__ import annotations

from dataclasses import replace

from ovtui.model import VM, Cluster, Host, HostState, Snapshot, VmState
from policies.evacuation import evacuation_plan


def _host(name: str, *, cpus: int = 16, mem: int = 65536, state: HostState = HostState.UP) -> Host:
    return Host(name=name, cluster="c", datacenter="dc", uri="test:///x", state=state, cpus=cpus,
                memory_mib=mem, cpu_model="m")  # fmt: skip


def _vm(name: str, host: str, *, mem: int = 4096, usage: float = 0.5, **kw: object) -> VM:
    return VM(uuid=f"u-{name}", name=name, host=host, cluster="c", datacenter="dc",
              state=kw.pop("state", VmState.RUNNING), vcpus=2, memory_mib=mem,  # type: ignore[arg-type]
              cpu_usage=usage, **kw)  # type: ignore[arg-type]  # fmt: skip


def _snap(hosts: list[Host], vms: list[VM], overcommit: int = 100) -> Snapshot:
    # memory_used_mib as the fleet computes it: the sum of active VMs
    hosts = [
        replace(h, memory_used_mib=sum(v.memory_mib for v in vms if v.host == h.name and v.active))
        for h in hosts
    ]
    cluster = Cluster("c", "dc", "m", memory_overcommit_percent=overcommit)
    return Snapshot(taken_at=0, clusters=(cluster,), hosts=tuple(hosts), vms=tuple(vms))


def test_every_running_vm_gets_a_target_and_shut_off_ones_stay() -> None:
    snap = _snap(
        [_host("a"), _host("b"), _host("c")],
        [_vm("v1", "a"), _vm("v2", "a"), _vm("off", "a", state=VmState.SHUTOFF)],
    )
    moves, stuck = evacuation_plan(snap, "a")
    assert not stuck
    assert {m.vm_name for m in moves} == {"v1", "v2"}
    assert all(m.target in {"b", "c"} and m.source == "a" for m in moves)
    assert all("a enters maintenance" in m.reason for m in moves)


def test_spreads_by_predicted_load() -> None:
    snap = _snap([_host("a"), _host("b"), _host("c")],
                 [_vm("big1", "a", usage=1.0), _vm("big2", "a", usage=1.0)])  # fmt: skip
    moves, _ = evacuation_plan(snap, "a")
    assert {m.target for m in moves} == {"b", "c"}  # not both onto the same host


def test_pinned_and_non_migratable_vms_block_with_reasons() -> None:
    snap = _snap([_host("a"), _host("b")],
                 [_vm("p", "a", pinned=True), _vm("n", "a", migratable=False)])  # fmt: skip
    moves, stuck = evacuation_plan(snap, "a")
    assert not moves
    assert {s.vm_name for s in stuck} == {"p", "n"}
    assert any("pinned" in s.reason for s in stuck)
    assert any("non-migratable" in s.reason for s in stuck)


def test_memory_and_overcommit_limit_placement() -> None:
    hosts = [_host("a"), _host("b", mem=8192)]
    vms = [_vm("v1", "a", mem=6144), _vm("v2", "a", mem=6144)]
    _, stuck = evacuation_plan(_snap(hosts, vms), "a")
    assert [s.vm_name for s in stuck] == ["v2"] or [s.vm_name for s in stuck] == ["v1"]
    moves, stuck = evacuation_plan(_snap(hosts, vms, overcommit=150), "a")
    assert len(moves) == 2 and not stuck


def test_hosts_down_or_in_other_states_are_not_targets() -> None:
    snap = _snap([_host("a"), _host("down", state=HostState.NON_RESPONSIVE),
                  _host("maint", state=HostState.MAINTENANCE)], [_vm("v", "a")])  # fmt: skip
    moves, stuck = evacuation_plan(snap, "a")
    assert not moves and len(stuck) == 1


def test_anti_affinity_members_are_not_put_together() -> None:
    snap = _snap(
        [_host("a"), _host("b"), _host("c")],
        [_vm("db1", "a", anti_affinity_group="pg"), _vm("db2", "b", anti_affinity_group="pg")],
    )
    moves, _ = evacuation_plan(snap, "a")
    assert [m.target for m in moves] == ["c"]
