"""A poll that finds a VM unchanged keeps the VM's reading object; any change builds a new one."""

from __future__ import annotations

import libvirt

from ovtui.fleet.reading import read_configs, read_host, with_configs
from ovtui.model import VmState
from ovtui.testdriver_fleet import FleetSpec
from tests.fleet.conftest import fleet_config


def test_unchanged_vms_keep_their_reading(small_spec: FleetSpec) -> None:
    config = fleet_config(small_spec)
    conn = libvirt.open(config.hosts[0].uri)
    try:
        pending = read_host(conn, {})
        configs = read_configs(list(pending.unread.items()))
        filled = with_configs(pending, configs)
        # The configs are cached now: every VM's reading is built again, not the pending one.
        first = read_host(conn, configs, previous=filled)
        assert not any(d.config_pending for d in first.domains)
        assert all(a is not b for a, b in zip(first.domains, pending.domains, strict=True))
        assert [d.devices for d in first.domains] == [d.devices for d in filled.domains]
        again = read_host(conn, configs, previous=first)
        assert all(a is b for a, b in zip(again.domains, first.domains, strict=True))

        victim = next(d for d in again.domains if d.state == VmState.RUNNING)
        conn.lookupByUUIDString(victim.uuid).destroy()
        after = read_host(conn, configs, previous=again)
        # The same connection: each open of a test:/// file starts from that file again.
        fresh = read_host(conn, configs)
    finally:
        conn.close()
    changed = {d.uuid: d for d in after.domains}[victim.uuid]
    assert changed.state == VmState.SHUTOFF and changed is not victim
    others = [d for d in after.domains if d.uuid != victim.uuid]
    assert all(d is {e.uuid: e for e in again.domains}[d.uuid] for d in others)
    # Equal in content to a reading built from nothing.
    assert fresh.domains == after.domains
