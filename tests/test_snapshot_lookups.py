"""Snapshot lookups by VM uuid and name are indexed at the first lookup of each kind, not at
construction (the fleet publishes a 20 000-VM snapshot every 0.5 s while polls run, and most
are never looked up by VM), and answer as an index built at construction did."""

from __future__ import annotations

from ovtui.model import VmState
from tests.metrics.fakes import host, snapshot, vm


def test_vm_indexes_are_built_at_the_first_lookup_and_answer_as_before() -> None:
    stale = vm("a", "h1", state=VmState.UNKNOWN)
    a, b = vm("a", "h2"), vm("b", "h2", uuid="uuid-b")
    snap = snapshot([host("h1"), host("h2")], [stale, a, b])
    assert snap._vm_index == {} and snap._vms_by_name == {}  # nothing built yet
    assert snap.vm("uuid-a") is a  # the last copy of a uuid, as before
    assert snap.vms_named("a") == (stale, a) and snap.vms_named("b") == (b,)
    assert snap.vm("nothing") is None and snap.vms_named("nothing") == ()
    assert snap.host("h2") is not None
    assert snapshot([], []).vm("uuid-a") is None
