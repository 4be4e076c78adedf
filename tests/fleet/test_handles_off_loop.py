"""No libvirt domain handle is freed on the event loop (ovtui/fleet/domain_handle.py).

Freeing one lets go of the GIL; on the loop, with hundreds of busy host threads, each costs a
GIL hand-over (~30% of the loop's start-up at 500 hosts). The polls and the config fill pass
the handles of VMs still to be read between the loop and the hosts' threads: counted here by
which thread frees each, through a start-up, its fill, background polls and a refresh after
an action, with a config made stale while the fill ran.
"""

from __future__ import annotations

import gc
import threading
from typing import Any

import libvirt
import pytest

from collectors.synthetic_load import SyntheticLoad
from ovtui.fleet.fleet import Fleet
from ovtui.testdriver_fleet import FleetSpec
from tests.fleet.conftest import fleet_config


async def test_the_loop_frees_no_domain_handle(
    small_spec: FleetSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    freed: list[int] = []  # thread of each live handle freed
    real_del = libvirt.virDomain.__del__

    fleet = Fleet(
        fleet_config(small_spec, poll_interval_seconds=3600), synthetic_load=SyntheticLoad().vm_cpu
    )
    conns: list[libvirt.virConnect] = []  # this fleet's: not an earlier test's garbage

    def counted_del(self: Any) -> None:
        if self._o is not None and any(self._conn is c for c in conns):
            freed.append(threading.get_ident())
        real_del(self)

    gc.collect()
    monkeypatch.setattr(libvirt.virDomain, "__del__", counted_del)
    await fleet.start()
    try:
        await fleet.wait_first_view(10)
        conns.extend(link.conn for link in fleet.links.values() if link.conn is not None)
        host = small_spec.hosts[0]
        for name in fleet.links:  # polls that replace readings whose configs are pending
            await fleet.refresh(name, publish=False)
        await fleet.wait_connected(10)
        fleet.forget_config(host.name, host.vms[0].uuid)  # stale: read again
        await fleet.refresh_now(host.name)
        for name in fleet.links:
            await fleet.refresh(name, publish=False)
        assert fleet.configs_pending() == 0
        before_stop = list(freed)
    finally:
        await fleet.stop()
    assert before_stop.count(loop_thread) == 0, "before stop"
    vms = sum(len(h.vms) for h in small_spec.hosts)
    assert len(freed) >= vms  # the polls' and the fill's handles were freed...
    assert freed.count(loop_thread) == 0  # ...none of them by the loop
