"""The overlay of moving VMs on the hosts' readings: one copy each, and when it may be dropped."""

from __future__ import annotations

from ovtui.fleet.moving import Moving, overlay, settled
from ovtui.model import VM, VmState


def vm(name: str, host: str, state: VmState = VmState.RUNNING, **kw: object) -> VM:
    return VM(f"uuid-{name}", name, host, "c1", "dc1", state, 1, 1024, **kw)  # type: ignore[arg-type]


def test_copies_on_both_hosts_become_one_migrating_vm_where_the_first_was() -> None:
    web = vm("web", "h1", cpu_usage=0.3)
    move = Moving(web, "h2", "live")
    arriving = vm("web", "h2", VmState.PAUSED)
    shown = overlay([vm("a", "h1"), arriving, web, vm("b", "h2")], {web.uuid: move})
    assert [v.name for v in shown] == ["a", "web", "b"]
    one = shown[1]
    assert (one.host, one.state, one.migration_source, one.migration_target) == (
        "h1",
        VmState.MIGRATING,
        "h1",
        "h2",
    )
    assert one.cpu_usage == 0.3  # the source's reading wins over the arriving copy
    assert one.active  # moved live: still running


def test_a_vm_on_neither_host_is_still_listed_and_an_offline_move_holds_nothing() -> None:
    off = vm("off", "h1", VmState.SHUTOFF)
    (shown,) = overlay([], {off.uuid: Moving(off, "h2", "offline")})
    assert (shown.name, shown.state, shown.migration_mode) == ("off", VmState.MIGRATING, "offline")
    assert not shown.active


def test_the_overlay_stays_until_both_hosts_were_read_after_the_move_or_one_is_down() -> None:
    move = Moving(vm("web", "h1"), "h2", "cold")
    up = {"h1": True, "h2": True}
    assert not settled(move, {"h1": 9, "h2": 9}, up)  # still moving
    move.reads_at_end = {"h1": 4, "h2": 7}  # reads begun by the end
    assert not settled(move, {"h1": 5, "h2": 7}, up)  # h2's stored reading began before the end
    assert settled(move, {"h1": 5, "h2": 8}, up)
    assert settled(move, {"h1": 5, "h2": 7}, {"h1": True, "h2": False})  # h2 stopped answering
