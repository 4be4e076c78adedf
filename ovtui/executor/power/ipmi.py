"""kind = "ipmi": a BMC over IPMI-over-LAN through fence_ipmilan (default) or ipmitool.

The password never reaches a command line: fence_ipmilan reads its options from stdin (the
fence-agents convention), ipmitool reads IPMI_PASSWORD with -E. fence_ipmilan's on and off wait
until the BMC reports the new state; with ipmitool this driver polls the status itself (a BMC
carries a power command out after answering it; a power cycle turns on again a moment later).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from typing import Any

from ovtui.config.power_schema import PowerConfig
from ovtui.config.schema import HostConfig
from ovtui.executor.power.proc import last_line, run_tool
from ovtui.fleet.errors import FleetError

FENCE_IPMILAN = "fence_ipmilan"
IPMITOOL = "ipmitool"
_IPMITOOL_VERB = {"status": "status", "on": "on", "off": "off", "reboot": "cycle"}
_STATE_RE = re.compile(r"(?:Chassis Power is|Status:)\s*(on|off)\b", re.I)


def fence_ipmilan_input(power: PowerConfig, action: str, password: str, timeout: float) -> str:
    """The key=value lines fence_ipmilan reads on stdin."""
    opts = {
        "ip": power.address,
        "ipport": str(power.port),
        "username": power.user,
        "password": password,
        "action": action,
        # The agent's own waits stay inside ours, so it reports instead of being killed.
        # (whole seconds: fence-agents refuses "7.5" with "Please use '-h' for usage")
        "power_timeout": str(max(1, int(timeout) - 5)),
        "login_timeout": str(min(10, max(1, int(timeout / 4)))),
    }
    if power.lanplus:
        opts["lanplus"] = "1"
    if power.cipher is not None:
        opts["cipher"] = str(power.cipher)
    return "".join(f"{k}={v}\n" for k, v in opts.items())


def ipmitool_argv(power: PowerConfig, action: str) -> list[str]:
    argv = [IPMITOOL, "-I", "lanplus" if power.lanplus else "lan"]
    if power.cipher is not None and power.lanplus:
        argv += ["-C", str(power.cipher)]
    assert power.address is not None and power.user is not None
    argv += ["-H", power.address, "-p", str(power.port), "-U", power.user, "-E"]
    return [*argv, "-N", "2", "-R", "2", "chassis", "power", _IPMITOOL_VERB[action]]


async def _wait_state(
    cfg: HostConfig, want: str, left: float, env: dict[str, str], deadline: float
) -> str:
    """Poll `chassis power status` until it says want; FleetError at the deadline."""
    argv = ipmitool_argv(cfg.power, "status")
    seen = ""
    while True:
        code, seen = await run_tool(
            argv, host=cfg.name, action="status", timeout=max(left, 1.0), env=env
        )
        m = _STATE_RE.search(seen)
        if code == 0 and m and m.group(1).lower() == want:
            return seen
        left = deadline - time.monotonic()
        if left <= 0:
            raise FleetError(
                f"{cfg.name}: its BMC accepted the command but still reports "
                f"{m.group(1).lower() if m else 'no state'} instead of {want}",
                kind="timeout",
                host=cfg.name,
                raw=seen,
            )
        await asyncio.sleep(min(0.5, left))


async def run(cfg: HostConfig, action: str, timeout: float) -> dict[str, Any]:
    power = cfg.power
    assert power.password is not None  # the schema requires it for kind = "ipmi"
    try:
        password = power.password.resolve()
    except LookupError as exc:
        raise FleetError(f"power {action} of {cfg.name}: {exc}", host=cfg.name) from None
    began = time.monotonic()
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if power.agent == FENCE_IPMILAN:
        argv: list[str] = [FENCE_IPMILAN]
        stdin = fence_ipmilan_input(power, action, password, timeout).encode()
        code, text = await run_tool(
            argv, host=cfg.name, action=action, timeout=timeout, env=env, stdin=stdin
        )
        # fence-agents: status exits 0 for on, 2 for off, 1 on any failure.
        ok = code == 0 or (action == "status" and code == 2)
    else:
        argv = ipmitool_argv(power, action)
        env["IPMI_PASSWORD"] = password
        code, text = await run_tool(argv, host=cfg.name, action=action, timeout=timeout, env=env)
        ok = code == 0
        if ok and action != "status":
            want = "off" if action == "off" else "on"
            left = timeout - (time.monotonic() - began)
            text += await _wait_state(cfg, want, left, env, began + timeout)
    last = last_line(text)
    if not ok:
        raise FleetError(
            f"power {action} of {cfg.name} through its BMC {power.address}:{power.port} "
            f"failed ({argv[0]} exited {code}): {last}",
            kind="unavailable",
            host=cfg.name,
            raw=text,
        )
    out: dict[str, Any] = {
        "host": cfg.name,
        "action": f"power_{action}",
        "result": f"{argv[0]}: {last}",
        "output": text,
        "seconds": round(time.monotonic() - began, 3),
    }
    if action == "status":
        m = _STATE_RE.search(text)
        if m is None:
            raise FleetError(
                f"power status of {cfg.name}: {argv[0]} gave no power state: {last}",
                host=cfg.name,
                raw=text,
            )
        out["state"] = m.group(1).lower()
    return out
