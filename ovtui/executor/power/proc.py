"""One power tool run: argv without a shell, stdin for secrets, a timeout, output kept short."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from ovtui.fleet.errors import FleetError

OUTPUT_KEPT = 2000


async def run_tool(
    argv: list[str],
    *,
    host: str,
    action: str,
    timeout: float,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> tuple[int, str]:
    """(exit code, last OUTPUT_KEPT characters of stdout+stderr); FleetError if it cannot run
    or does not finish in time (it is then killed)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(env) if env is not None else None,
        )
    except OSError as exc:
        raise FleetError(
            f"power {action} of {host}: cannot run {argv[0]!r}: {exc.strerror}", host=host
        ) from None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(stdin), timeout)
    except asyncio.CancelledError:  # the engine stops: leave no power tool running
        proc.kill()
        await asyncio.shield(proc.wait())
        raise
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise FleetError(
            f"power {action} of {host} did not finish within {timeout:.0f} s "
            f"({argv[0]} was killed)",
            kind="timeout",
            host=host,
        ) from None
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")[-OUTPUT_KEPT:]


def last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if "DeprecationWarning" not in ln]
    lines = [ln for ln in lines if not ln.lstrip().startswith("from pipes import")]
    return lines[-1].strip() if lines else "no output"
