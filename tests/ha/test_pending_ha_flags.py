"""A VM whose domain XML is not read yet (config_pending) keeps its HA flag: after an engine
start (or a standby's takeover) its host may die before the XML is read, and its HA VMs must
still be restarted (ovtui/ha/last_known.py). In-process, on a test-driver fleet, the XML reads
of the second engine held back by a gate (no timing involved)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from ovtui.engine import Engine
from ovtui.ha import machine
from ovtui.ha.machine import Confirmed
from ovtui.ha.model import HaState
from ovtui.ha.world import build_world
from ovtui.testdriver_fleet import ClusterSpec, DatacenterSpec, FleetSpec, HostSpec, VmSpec
from tests.fleet.test_config_fill import _gated
from tests.policies import test_policy_engine
from tests.policies.test_policy_engine import SKY, MakeEngine, frozen_load, stop_or_explain

engine_for = test_policy_engine.engine_for  # the fixture, shared


def _spec() -> FleetSpec:
    """ha-1 is HA by its XML's metadata only (never set through ovtui); web-1 is not HA."""
    vms = (VmSpec("ha-1", 1, 512, "db", ha=True), VmSpec("web-1", 1, 512, "web"))
    return FleetSpec(
        (DatacenterSpec("dc1"),),
        (ClusterSpec("c1", "dc1", SKY),),
        (HostSpec("h1", "c1", 8, 16384, SKY, 2400, vms), HostSpec("h2", "c1", 8, 16384, SKY, 2400)),
    )


@pytest.mark.parametrize("ha_state_kept", [True, False], ids=["ha-state", "stored-xml-only"])
async def test_a_host_lost_before_its_vms_xml_is_read_still_has_its_ha_vms_restarted(
    engine_for: MakeEngine, ha_state_kept: bool
) -> None:
    first = await engine_for(_spec())
    vm = first.snapshot().vms_named("ha-1")[0]
    assert vm.highly_available and not vm.config_pending
    assert first.ha.ha_of(vm.uuid) is None  # the flag is the metadata's, not in the store
    await first.ha.remember_xml(vm)  # what HA keeps of every HA VM it sees running
    await first.ha.tick()  # records what h1 runs, with the flags (persisted)
    config = first.config
    if not ha_state_kept:
        await first.ha.stop()  # no tick writes it again
        first.store.set_setting("ha_state", None)  # only the stored definition is left
    await stop_or_explain(first)

    second = Engine(config, synthetic_load=frozen_load())
    gate = asyncio.Event()
    _gated(second.fleet, gate, [])  # the next engine's XML reads wait
    await second.start()
    try:
        await second.fleet.wait_first_view(10)
        await second.ha.tick()  # h1 is up: HA records what it runs, as it sees it now
        snap = second.snapshot()
        pending = {v.name: v for v in snap.vms}
        assert pending["ha-1"].config_pending and pending["web-1"].config_pending
        assert (pending["ha-1"].highly_available, pending["web-1"].highly_available) == (
            True,
            False,
        )
        # h1 dies now, before its XMLs were read; the operator confirms it rebooted.
        st = HaState.from_json(second.ha.state.to_json())
        now = time.time()
        world = build_world(snap, config, now, now - 3600)
        h1 = replace(world.hosts["h1"], state="non_responsive")
        lost = replace(world, hosts={**world.hosts, "h1": h1})
        machine.tick(st, lost)
        _cmds, lines = machine.tick(st, lost, events=[Confirmed("h1", "admin")])
        assert list(st.recoveries) == [vm.uuid], lines
        assert [name for name, _host, _at in st.left_down.values()] == ["web-1"], lines
    finally:
        gate.set()
        await stop_or_explain(second)
