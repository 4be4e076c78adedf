"""The engine's HA and power actions for operators, each run through Engine.perform (audit).

The API authorises (host.fence, vm.ha) before calling these. A manual power-off parks the host
(store flag power = "off", as power saving does): the fleet then shows it down, not
non-responsive, and the HA machine does not fence it again.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from auth.principal import Principal
from ovtui.executor.power import power_action, power_status
from ovtui.fleet.errors import FleetError
from ovtui.ha.machine import Confirmed
from ovtui.model import VM

if TYPE_CHECKING:
    from ovtui.engine.core import Engine

POWER_ACTIONS = ("status", "on", "off", "reboot")


def _cfg(engine: Engine, host: str) -> Any:
    cfg = next((h for h in engine.config.hosts if h.name == host), None)
    if cfg is None:
        raise FleetError(f"no host named {host!r}", kind="invalid")
    return cfg


async def power(
    engine: Engine, principal: Principal, host: str, action: str, source: str = ""
) -> dict[str, Any]:
    cfg = _cfg(engine, host)

    async def run() -> dict[str, Any]:
        out = await power_action(cfg, action)
        if action in ("on", "off"):
            engine.store.set_host_state(host, power=action, last_power_action=time.time())
            engine.fleet.invalidate(host)
        return {k: v for k, v in out.items() if k != "output"}

    if action == "status":
        return await run()  # reading the BMC changes nothing: not audited
    return await engine.perform(principal, f"host.power_{action}", f"host/{host}", {}, run, source)


async def fence(
    engine: Engine, principal: Principal, host: str, source: str = ""
) -> dict[str, Any]:
    """Off, confirm off (the host is then fenced: its HA VMs restart elsewhere), on."""
    cfg = _cfg(engine, host)
    wait = engine.config.cluster(cfg.cluster).ha.power_off_confirm_seconds

    async def run() -> dict[str, Any]:
        await power_action(cfg, "off")
        deadline = time.monotonic() + wait
        while (state := await power_status(cfg)) != "off":
            if time.monotonic() > deadline:
                raise FleetError(f"{host} still reports power {state} after off", host=host)
            await asyncio.sleep(1.0)
        engine.ha.inject(Confirmed(host, principal.name, powered_off=True))
        try:
            await power_action(cfg, "on")
            on = "powered on again"
        except FleetError as exc:
            on = f"power on failed ({exc.message}); it stays fenced"
        return {"result": f"{host} fenced (power-off confirmed), {on}"}

    return await engine.perform(principal, "host.fence", f"host/{host}", {}, run, source)


async def confirm_rebooted(
    engine: Engine, principal: Principal, host: str, source: str = ""
) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        return engine.ha.confirm_rebooted(host, principal.name)

    return await engine.perform(principal, "host.confirm_rebooted", f"host/{host}", {}, run, source)


async def set_vm_ha(
    engine: Engine, principal: Principal, vm: VM, ha: bool, priority: int, source: str = ""
) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        out = engine.ha.set_vm(vm, ha, priority)
        if ha:
            await engine.ha.remember_xml(vm)  # its definition, for a restart after a fence
        return out

    params = {"uuid": vm.uuid, "ha": ha, "priority": priority}
    return await engine.perform(principal, "vm.ha", f"vm/{vm.name}@{vm.host}", params, run, source)
