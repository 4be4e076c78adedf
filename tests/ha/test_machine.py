"""Single ticks of the HA machine where the engine's view lags behind libvirt's events."""

from __future__ import annotations

from ovtui.ha import machine
from ovtui.ha.machine import VmStopped
from ovtui.ha.model import HaState, HostObs, VmObs, World


def _world(now: float, vm_active: bool) -> World:
    hosts = {h: HostObs(h, "c", "up", True) for h in ("h1", "h2", "h3")}
    vms = {"u1": VmObs("u1", "vm1", "h1", vm_active, ha=True, priority=5)}
    return World(now, 0.0, hosts, vms)


def test_a_crash_reported_before_the_snapshot_shows_it_is_not_taken_for_a_restart() -> None:
    st = HaState()
    machine.tick(st, _world(1000, True))
    cmds, lines = machine.tick(st, _world(1001, True), events=[VmStopped("u1", "h1", True)])
    assert cmds == [] and "u1" in st.recoveries and not any("done" in ln for ln in lines)
    cmds, _ = machine.tick(st, _world(1002, False))  # the read after the event
    assert [(c.kind, c.vm, c.source) for c in cmds] == [("restart", "u1", "h1")]


def test_a_user_shutdown_event_never_creates_a_recovery() -> None:
    st = HaState()
    machine.tick(st, _world(1000, True))
    cmds, lines = machine.tick(st, _world(1001, False), events=[VmStopped("u1", "h1", False)])
    assert cmds == [] and not st.recoveries and "not restarted" in lines[0]


def test_the_state_round_trips_through_json() -> None:
    st = HaState()
    machine.tick(st, _world(1000, True))
    machine.tick(st, _world(1001, True), events=[VmStopped("u1", "h1", True)])
    again = HaState.from_json(st.to_json())
    assert again == st
