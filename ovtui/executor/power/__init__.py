"""Host power management: one small driver per [hosts.power] kind, one entry point.

await power_action(cfg, "off")     # on | off | reboot | status; FleetError when it fails
await power_status(cfg)            # "on" | "off"
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ovtui.config.schema import HostConfig
from ovtui.executor.power import command, ipmi
from ovtui.fleet.errors import FleetError

ACTIONS = ("on", "off", "reboot", "status")
Driver = Callable[[HostConfig, str, float], Awaitable[dict[str, Any]]]
DRIVERS: dict[str, Driver] = {"command": command.run, "ipmi": ipmi.run}


async def power_action(
    cfg: HostConfig, action: str, timeout: float | None = None
) -> dict[str, Any]:
    if action not in ACTIONS:
        raise FleetError(f"power {action!r}: not one of {', '.join(ACTIONS)}", kind="invalid")
    driver = DRIVERS.get(cfg.power.kind)
    if driver is None:
        raise FleetError(
            f"{cfg.name} has no power {action} command, no power management ([hosts.power] kind = "
            f'"{cfg.power.kind}"): it is left as it is',
            kind="invalid",
            host=cfg.name,
        )
    return await driver(cfg, action, timeout if timeout is not None else cfg.power.timeout_seconds)


async def power_status(cfg: HostConfig, timeout: float | None = None) -> str:
    return str((await power_action(cfg, "status", timeout))["state"])


async def run_power_command(
    cfg: HostConfig, action: str, timeout: float | None = None
) -> dict[str, Any]:
    """The executor's power step (power saving): on or off through the host's driver."""
    return await power_action(cfg, action, timeout)
