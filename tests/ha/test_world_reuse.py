"""build_world keeps what it made of each VM object from one tick to the next: a VM that is the
same object as last time (its host was not polled since) is not observed again, and the world
is the same as one built afresh."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from ovtui.config import load_config
from ovtui.ha.world import Seen, build_world
from ovtui.model import VmState
from ovtui.testdriver_fleet import synthetic_spec, write_fleet
from tests.metrics.fakes import host, snapshot, vm


def test_unchanged_vms_are_reused_and_the_world_equals_a_fresh_one() -> None:
    config = load_config(write_fleet(synthetic_spec(2, 1), Path(tempfile.mkdtemp())))
    a, b, c = vm("a", "h1", highly_available=True, ha_priority=5), vm("b", "h1"), vm("c", "h2")
    hosts = [host("h1"), host("h2")]
    seen: Seen = {}
    first = build_world(snapshot(hosts, [a, b, c]), config, 10.0, 0.0, seen)
    # h1 polled again: b is a new object (stopped), a a new but equal one; c gone, d new
    a2, b2, d = replace(a), replace(b, state=VmState.SHUTOFF), vm("d", "h2")
    second_snap = snapshot(hosts, [a2, b2, d])
    second = build_world(second_snap, config, 11.0, 0.0, seen)
    fresh = build_world(second_snap, config, 11.0, 0.0)
    assert second.vms == fresh.vms and second.hosts == fresh.hosts
    assert not second.vms["uuid-b"].active and second.vms["uuid-a"].priority == 5
    assert set(seen) == {"uuid-a", "uuid-b", "uuid-d"}  # c's entry went with c
    third = build_world(second_snap, config, 12.0, 0.0, seen)  # nobody polled since
    assert all(third.vms[u] is second.vms[u] for u in second.vms)
    assert first.vms["uuid-a"] is not second.vms["uuid-a"]  # a new object is observed again
