"""kind = "command": the argv lists of [hosts.power] run without a shell, with a timeout.

The host's name and the action are passed in OVTUI_HOST and OVTUI_POWER_ACTION; the password,
when configured, in OVTUI_POWER_PASSWORD (never on the command line, where `ps` shows it).
`status` exits 0 for on, 2 (fence agents) or 3 (LSB status) for off.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ovtui.config.schema import HostConfig
from ovtui.executor.power.proc import last_line, run_tool
from ovtui.fleet.errors import FleetError

OFF_CODES = (2, 3)


async def run(cfg: HostConfig, action: str, timeout: float) -> dict[str, Any]:
    """Runs the host's on/off/status/reboot command; raises FleetError unless it succeeds."""
    power = cfg.power
    argv: list[str] | None = getattr(power, action)
    if not argv:
        raise FleetError(
            f"{cfg.name} has no power {action} command in [hosts.power]: it is left as it is",
            kind="invalid",
            host=cfg.name,
        )
    env = {**os.environ, "OVTUI_HOST": cfg.name, "OVTUI_POWER_ACTION": action}
    if power.password is not None:
        try:
            env["OVTUI_POWER_PASSWORD"] = power.password.resolve()
        except LookupError as exc:
            raise FleetError(f"power {action} of {cfg.name}: {exc}", host=cfg.name) from None
    began = time.monotonic()
    code, text = await run_tool(argv, host=cfg.name, action=action, timeout=timeout, env=env)
    last = last_line(text)
    state = None
    if action == "status" and code in OFF_CODES:
        state = "off"
    elif code != 0:
        raise FleetError(
            f"power {action} of {cfg.name}: {argv[0]} exited with {code}: {last}",
            host=cfg.name,
            raw=text,
        )
    elif action == "status":
        state = "on"
    return {
        "host": cfg.name,
        "action": f"power_{action}",
        "result": f"{argv[0]} exited {code}: {last}",
        "output": text,
        "seconds": round(time.monotonic() - began, 3),
        **({"state": state} if state else {}),
    }
