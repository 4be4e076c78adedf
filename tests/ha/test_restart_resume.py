"""An HA restart resumed by the next engine goes to the host the previous one had chosen (and
recorded before starting it), where libvirt refuses a second start, never to another one.
In-process, on a test-driver fleet; the kill -9 on the lab is tests/deploy/test_takeover_lab.py.
"""

from __future__ import annotations

from ovtui.ha.model import Cmd, Recovery
from tests.policies import test_policy_engine
from tests.policies.test_policy_engine import MakeEngine, settle, two_hot_hosts

engine_for = test_policy_engine.engine_for  # the fixture, shared


async def test_a_resumed_restart_uses_the_recorded_target(engine_for: MakeEngine) -> None:
    engine = await engine_for(two_hot_hosts())
    vm = engine.snapshot().vms_named("a-0")[0]
    assert vm.host == "h1"
    await engine.ha.remember_xml(vm)  # as HA does for a VM it watches
    engine.ha.set_vm(vm, True, 50)
    await engine.vm_action(test_policy_engine.ADMIN, vm, "poweroff")
    await settle(engine)
    # what the previous engine left: a restart under way, to h3 (recorded before it acted)
    rec = Recovery(vm.uuid, vm.name, "h1", 50, "crashed", 0.0, stage="starting", target="h3")
    engine.ha.state.recoveries[vm.uuid] = rec
    target = await engine.ha._restart(Cmd("restart", vm=vm.uuid, source="h1", reason="test"))
    assert target == "h3"  # not h1, which answers (without the record it would start it there)
    await settle(engine)
    assert [(v.host, v.active) for v in engine.snapshot().vms_named("a-0")
            if v.active] == [("h3", True)]  # fmt: skip


async def test_a_fresh_restart_records_its_target_before_starting(engine_for: MakeEngine) -> None:
    engine = await engine_for(two_hot_hosts())
    vm = engine.snapshot().vms_named("b-0")[0]
    engine.ha.set_vm(vm, True, 50)
    await engine.vm_action(test_policy_engine.ADMIN, vm, "poweroff")
    await settle(engine)
    engine.ha.state.recoveries[vm.uuid] = Recovery(vm.uuid, vm.name, vm.host, 50, "crashed", 0.0,
                                                   stage="starting")  # fmt: skip
    seen: list[str] = []
    real = engine.ha._act

    async def act(action: str, target: str, params: dict, run):  # type: ignore[no-untyped-def]
        seen.append(engine.store.get_setting("ha_state")["recoveries"][vm.uuid]["target"])
        return await real(action, target, params, run)

    engine.ha._act = act  # type: ignore[method-assign]
    assert await engine.ha._restart(Cmd("restart", vm=vm.uuid, source=vm.host)) == vm.host
    assert seen == [vm.host]  # stored before the start was asked for
