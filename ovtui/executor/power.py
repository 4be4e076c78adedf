"""Host power commands: the argv lists of [hosts.power] run without a shell, with a timeout.

The host's name and the action are passed in OVTUI_HOST and OVTUI_POWER_ACTION; the password,
when configured, in OVTUI_POWER_PASSWORD (never on the command line, where `ps` shows it).
Output (stdout and stderr, the last 2000 characters) is returned for the audit trail.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from ovtui.config.schema import HostConfig
from ovtui.fleet.errors import FleetError

COMMAND_TIMEOUT_SECONDS = 120.0
OUTPUT_KEPT = 2000


async def run_power_command(
    cfg: HostConfig, action: str, timeout: float = COMMAND_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """Runs the host's `on`, `off` or `status` command; raises FleetError unless it exits 0."""
    power = cfg.power
    argv: list[str] | None = getattr(power, action)
    if power.kind != "command" or not argv:
        raise FleetError(
            f"{cfg.name} has no power {action} command ([hosts.power] kind = "
            f'"{power.kind}"): it is left as it is',
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
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
        )
    except OSError as exc:
        raise FleetError(
            f"power {action} of {cfg.name}: cannot run {argv[0]!r}: {exc.strerror}",
            host=cfg.name,
        ) from None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise FleetError(
            f"power {action} of {cfg.name} did not finish within {timeout:.0f} s "
            f"({argv[0]} was killed)",
            kind="timeout",
            host=cfg.name,
        ) from None
    text = out.decode(errors="replace")[-OUTPUT_KEPT:]
    last = text.strip().splitlines()[-1] if text.strip() else "no output"
    if proc.returncode != 0:
        raise FleetError(
            f"power {action} of {cfg.name}: {argv[0]} exited with {proc.returncode}: {last}",
            host=cfg.name,
            raw=text,
        )
    return {
        "host": cfg.name,
        "action": f"power_{action}",
        "result": f"{argv[0]} exited 0: {last}",
        "output": text,
        "seconds": round(time.monotonic() - began, 3),
    }
