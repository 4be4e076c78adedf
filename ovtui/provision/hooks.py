"""Hooks, in the spirit of VDSM's: executables in `<hooks_dir>/<event>/`, run in name order,
without a shell, each with a timeout, every run audited.

`before_*` hooks get the domain XML on stdin and may print a changed one (the next hook gets
that), or exit non-zero to refuse: their stderr is the reason the operator reads. A hook that
does not finish in time is killed and refuses. `after_*` hooks get the XML too; what they
print is ignored and a failure is audited, not undone (the VM already started, stopped or
moved). Environment: OVTUI_EVENT, OVTUI_VM, OVTUI_HOST (and PATH), nothing else of the engine's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ovtui.fleet.errors import FleetError

EVENTS = (
    "before_vm_create",
    "before_vm_start",
    "after_vm_start",
    "before_migrate",
    "after_migrate",
    "after_vm_stop",
    "before_disk_move",
)
# The audit trail's record(**fields) (auth.audit.AuditTrail.record)
Record = Callable[..., Any]


class HookRefused(FleetError):
    pass


class Hooks:
    def __init__(self, directory: Path | None, timeout: float, record: Record) -> None:
        self.directory, self.timeout, self.record = directory, timeout, record

    def scripts(self, event: str) -> list[Path]:
        if event not in EVENTS:
            raise ValueError(f"unknown hook event {event!r}")
        if self.directory is None:
            return []
        where = self.directory / event
        if not where.is_dir():
            return []
        return sorted(p for p in where.iterdir() if p.is_file() and os.access(p, os.X_OK))

    async def run(
        self, event: str, xml: str, *, vm: str, host: str = "", actor: str = "system"
    ) -> str:
        """The XML after every hook of `event` (unchanged for after_* events); raises
        HookRefused when a before_* hook refuses or hangs. `actor`: whose action ran them."""
        for script in self.scripts(event):
            xml = await self._one(script, event, xml, vm, host, actor)
        return xml

    async def _one(self, script: Path, event: str, xml: str, vm: str, host: str, actor: str) -> str:
        name = f"{event}/{script.name}"

        def audit(result: str, detail: str) -> None:
            self.record(
                actor=actor,
                actor_source="hook",
                action="hook.run",
                target=f"hook/{name}",
                params={"event": event, "vm": vm, "host": host},
                result=result,
                detail=detail,
            )

        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OVTUI_EVENT": event,
               "OVTUI_VM": vm, "OVTUI_HOST": host}  # fmt: skip
        began = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            str(script),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group: a timeout kills its children too
        )
        try:
            async with asyncio.timeout(self.timeout):
                out, err = await proc.communicate(xml.encode())
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            why = f"hook {name} did not finish within {self.timeout:g} s (killed)"
            audit("failed", why)
            if event.startswith("before_"):
                raise HookRefused(f"{vm}: {why}", kind="conflict", vm=vm) from None
            return xml
        took = f"{time.monotonic() - began:.2f} s"
        reason = err.decode(errors="replace").strip()[:500]
        if proc.returncode != 0:
            detail = f"exit {proc.returncode} after {took}: {reason or 'no reason given'}"
            if event.startswith("before_"):
                audit("refused", detail)
                raise HookRefused(
                    f"{vm}: hook {name} refused: {reason or f'exit {proc.returncode}'}",
                    kind="conflict",
                    vm=vm,
                )
            audit("failed", detail)
            return xml
        changed = out.decode(errors="replace").strip()
        if not event.startswith("before_") or not changed:
            audit("ok", f"{took}, definition unchanged")
            return xml
        problem = _xml_problem(changed, xml)
        if problem:
            audit("failed", f"printed {problem}")
            raise HookRefused(
                f"{vm}: hook {name} printed {problem}: nothing done", kind="conflict", vm=vm
            )
        audit("ok", f"{took}, definition changed")
        return changed


def _xml_problem(changed: str, before: str) -> str | None:
    try:
        new = ET.fromstring(changed)
    except ET.ParseError as exc:
        return f"XML that does not parse ({exc})"
    if new.tag != "domain":
        return f"a <{new.tag}> where a <domain> was expected"
    old = ET.fromstring(before)
    for tag in ("uuid", "name"):
        if (old.findtext(tag) or "") != (new.findtext(tag) or ""):
            return f"a domain with another {tag} (a hook may change a VM, not swap it)"
    return None
