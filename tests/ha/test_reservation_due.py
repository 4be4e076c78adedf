"""The HA reservation is recomputed when what it depends on changes, and at least every
REFRESH_SECONDS otherwise: not at every 1 s tick (hosts times VMs of planning each time kept a
500-host engine from answering)."""

from __future__ import annotations

from dataclasses import replace

from ovtui.ha.reservation_due import (
    PENDING_SECONDS,
    PENDING_SHARE,
    REFRESH_SECONDS,
    ReservationDue,
)
from ovtui.model import HostState
from tests.policies.helpers import host, snap, vm


def _fleet(**changes: object):  # type: ignore[no-untyped-def]
    h1, h2 = host("h1"), host("h2", **changes)  # type: ignore[arg-type]
    return snap([h1, h2], [vm("ha", "h1", highly_available=True), vm("plain", "h2")])


def test_unchanged_inputs_wait_for_the_refresh_and_changes_do_not() -> None:
    due = ReservationDue()
    s = _fleet()
    assert due.due(s, 0.0)  # the first tick computes it
    assert not due.due(s, 1.0)
    # a non-HA VM's CPU moving is drift: picked up by the refresh, not at once
    moved = replace(s, vms=(s.vms[0], replace(s.vms[1], cpu_usage=0.9)))
    assert not due.due(moved, 2.0)
    assert due.due(moved, REFRESH_SECONDS + 0.5)
    assert not due.due(moved, REFRESH_SECONDS + 1.5)


def test_a_host_state_or_an_ha_vm_change_is_due_at_once() -> None:
    due = ReservationDue()
    s = _fleet()
    assert due.due(s, 0.0)
    down = _fleet(state=HostState.NON_RESPONSIVE)
    assert due.due(down, 1.0)
    back = _fleet()
    assert due.due(back, 2.0)
    bigger = replace(back, vms=(replace(back.vms[0], memory_mib=8192), back.vms[1]))
    assert due.due(bigger, 3.0)
    elsewhere = replace(bigger, vms=(replace(bigger.vms[0], host="h2"), bigger.vms[1]))
    assert due.due(elsewhere, 4.0)
    assert not due.due(elsewhere, 5.0)


def test_while_configs_are_pending_changes_wait_for_the_pending_interval() -> None:
    """Start-up: the VMs' sizes arrive a few at a time and change the inputs at every tick;
    recomputing then (seconds at 500 hosts) starved the reads that bring those sizes in."""
    due = ReservationDue()
    s = _fleet()
    pending = replace(s, vms=(s.vms[0], replace(s.vms[1], config_pending=True)))
    assert due.due(pending, 0.0)
    sized = replace(pending, vms=(replace(pending.vms[0], memory_mib=8192), pending.vms[1]))
    assert not due.due(sized, 1.0)  # an HA VM changed, but a config is still pending
    down = replace(sized, hosts=(sized.hosts[0], replace(sized.hosts[1], state=HostState.DOWN)))
    assert not due.due(down, 2.0)
    assert due.due(down, PENDING_SECONDS + 0.5)  # taken once the interval is over
    assert not due.due(down, PENDING_SECONDS + 1.5)  # and nothing changed since
    filled = replace(down, vms=(down.vms[0], replace(down.vms[1], config_pending=False)))
    assert not due.due(filled, PENDING_SECONDS + 2.0)  # the last pending VM is no HA input
    bigger = replace(filled, vms=(replace(filled.vms[0], memory_mib=4096), filled.vms[1]))
    assert due.due(bigger, PENDING_SECONDS + 3.0)  # none pending: a change is due at once


def test_while_pending_a_slow_recompute_waits_longer_than_the_pending_interval() -> None:
    """At 500 hosts under load a recompute takes ~1 s: while configs are pending the next waits
    PENDING_SHARE times that, so the fill that brings the configs in keeps the loop."""
    due = ReservationDue()
    s = _fleet()
    pending = replace(s, vms=(s.vms[0], replace(s.vms[1], config_pending=True)))
    assert due.due(pending, 0.0)
    due.took(2.0)
    down = replace(
        pending, hosts=(pending.hosts[0], replace(pending.hosts[1], state=HostState.DOWN))
    )
    wait = 2.0 * PENDING_SHARE
    assert wait > PENDING_SECONDS
    assert not due.due(down, PENDING_SECONDS + 0.5)
    assert due.due(down, wait + 0.5)
    due.took(0.01)  # quick again: the pending interval holds
    back = replace(down, hosts=pending.hosts)
    assert not due.due(back, wait + 1.0)
    assert due.due(back, wait + PENDING_SECONDS + 1.0)
    # nothing pending: a change is taken at once, however long the last one took
    due.took(5.0)
    filled = replace(back, vms=(back.vms[0], replace(back.vms[1], config_pending=False)))
    assert due.due(replace(filled, hosts=down.hosts), wait + PENDING_SECONDS + 2.0)
