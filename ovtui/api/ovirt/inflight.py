"""Actions that oVirt answers at once and finishes in the background.

oVirt's `migrate` or host `deactivate` returns as soon as the engine accepts it; the object then
shows a transitional status (`migrating`, `preparing_for_maintenance`) until it is done, and
tooling polls for the final one. The native engine calls wait for the outcome, so here each runs
as a task: a failure within ACCEPT_SECONDS (a refusal: no room, wrong state) is the action's
answer; a later one is in the engine's audit trail and events, as every action's outcome is.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable
from typing import Any

from ovtui.fleet.errors import FleetError

log = logging.getLogger(__name__)
_REGISTRIES: weakref.WeakKeyDictionary[object, InFlight] = weakref.WeakKeyDictionary()
ACCEPT_SECONDS = 1.0
EVACUATING = "preparing_for_maintenance"


class InFlight:
    @classmethod
    def of(cls, engine: object) -> InFlight:
        """The one registry of an engine (the app and tests look at the same one)."""
        found = _REGISTRIES.get(engine)
        if found is None:
            found = _REGISTRIES[engine] = cls()
        return found

    def __init__(self) -> None:
        self._status: dict[tuple[str, str], str] = {}  # (kind, id) -> transitional status
        self._tasks: set[asyncio.Task[Any]] = set()

    def status(self, kind: str, ident: str) -> str | None:
        return self._status.get((kind, ident))

    def vm_status(self, uuid: str, host: str, active: bool) -> str | None:
        """A VM's transitional status: its own action, or `migrating` while the host it is on
        is being evacuated (every VM there moves, or the evacuation is refused up front)."""
        own = self._status.get(("vm", uuid))
        if own is None and active and self._status.get(("host", host)) == EVACUATING:
            return "migrating"
        return own

    async def run(self, kind: str, ident: str, status: str, work: Awaitable[Any]) -> None:
        """Starts `work`; raises its error if it fails within ACCEPT_SECONDS, else returns while
        it goes on, the object showing `status` until it ends."""
        key = (kind, ident)
        if key in self._status:
            raise FleetError(
                f"{kind} {ident} is already {self._status[key]}: wait for it to finish",
                kind="conflict",
            )
        self._status[key] = status
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._finished(key, t))
        done, _ = await asyncio.wait({task}, timeout=ACCEPT_SECONDS)
        if done:
            task.result()  # raises the refusal

    def _finished(self, key: tuple[str, str], task: asyncio.Task[Any]) -> None:
        self._status.pop(key, None)
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Audited and in the events by the engine; here only for the log.
            log.info("background %s %s failed: %s", key[0], key[1], task.exception())
