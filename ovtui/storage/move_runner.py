"""Runs a disk move stage by stage through a driver, saving each stage before going on.

The driver does the work (ovtui.storage.move_libvirt on real hosts, a fake in the unit tests);
this module decides what comes next, what a failure undoes, and what a restart does:
- not yet past the point of no return: if the copy job still runs on the host (an engine killed
  mid-copy), wait for it again and carry on; else if the VM already uses the target (killed
  during the pivot) record the pivot and carry on; else clean up (cancel, remove the target).
- past it: carry on with the remaining stages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Protocol

from ovtui.storage.move_model import CLEANING, DONE, FAILED, DiskMove

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # bytes done, bytes total


class MoveDriver(Protocol):
    async def create_target(self, m: DiskMove) -> DiskMove: ...  # returns m with dest.path
    async def start_copy(self, m: DiskMove) -> None: ...
    async def wait_ready(self, m: DiskMove, progress: Progress) -> None: ...
    async def pivot(self, m: DiskMove) -> None: ...
    async def copy_volume(self, m: DiskMove, progress: Progress) -> DiskMove: ...  # cold
    async def update_definition(self, m: DiskMove) -> None: ...
    async def delete_source(self, m: DiskMove) -> None: ...
    async def cancel_copy(self, m: DiskMove) -> None: ...  # no job: nothing to do
    async def delete_target(self, m: DiskMove) -> None: ...
    async def job_running(self, m: DiskMove) -> bool: ...
    async def uses_target(self, m: DiskMove) -> bool: ...  # the VM's disk is the target now


class MoveFailed(Exception):
    """A move that failed; the VM is on its source (or, past the pivot, on its target)."""

    def __init__(self, move: DiskMove) -> None:
        super().__init__(move.error)
        self.move = move


Save = Callable[[DiskMove], None]


class MoveRunner:
    def __init__(self, driver: MoveDriver, save: Save, clock: Callable[[], float] = time.time):
        self.driver, self._save, self._clock = driver, save, clock

    def _to(self, m: DiskMove, stage: str, **changes: object) -> DiskMove:
        m = m.at(stage, self._clock(), **changes)
        self._save(m)
        return m

    def _progress(self, holder: list[DiskMove]) -> Progress:
        def report(done: int, total: int) -> None:
            holder[0] = replace(holder[0], bytes_done=done, bytes_total=total)
            self._save(holder[0])

        return report

    async def run(self, m: DiskMove) -> DiskMove:
        """From m's stage to the end; raises MoveFailed (after cleaning up) on failure."""
        holder = [m]
        try:
            while holder[0].stage != DONE:
                holder[0] = await self._step(holder[0], holder)
        except Exception as exc:  # every failure is reported the same way
            current = holder[0]
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            if current.past_return:
                current = self._to(current, current.stage, error=message)
                raise MoveFailed(current) from exc
            raise MoveFailed(await self._clean(current, message)) from exc
        return holder[0]

    async def _step(self, m: DiskMove, holder: list[DiskMove]) -> DiskMove:
        d, stage = self.driver, m.stage
        if stage == "new" and m.live:
            return self._to(await d.create_target(m), "target_created")  # sets target_created
        if stage == "new":  # cold: the copy creates the target
            m = self._to(m, "copying", target_created=True)
            holder[0] = m
            copied = await d.copy_volume(m, self._progress(holder))
            return self._to(replace(holder[0], dest=copied.dest), "ready")
        if stage == "target_created":
            await d.start_copy(m)
            return self._to(m, "copying")
        if stage == "copying" and m.live:
            await d.wait_ready(m, self._progress(holder))
            return self._to(holder[0], "ready")
        if stage == "copying":  # a cold copy cut short (resume cleans up instead)
            raise RuntimeError("the volume copy was interrupted")
        if stage == "ready" and m.live:
            await d.pivot(m)
            return self._to(m, "pivoted")
        if stage in ("ready", "pivoted"):
            await d.update_definition(m)
            return self._to(m, "definition_updated")
        if stage == "definition_updated":
            await d.delete_source(m)
            return self._to(m, DONE, finished_at=self._clock(), error="")
        raise RuntimeError(f"disk move {m.id} is in stage {stage!r}: nothing to do")

    async def _clean(self, m: DiskMove, error: str) -> DiskMove:
        m = self._to(m, CLEANING, error=error)
        for what, undo in (
            ("cancel the copy", self.driver.cancel_copy),
            ("remove the target", self._remove_target),
        ):
            try:
                await undo(m)
            except Exception as exc:  # keep cleaning; say what is left
                log.warning("disk move %s: could not %s: %s", m.id, what, exc)
                m = self._to(m, CLEANING, error=f"{m.error}; could not {what}: {exc}")
        return self._to(m, FAILED, finished_at=self._clock())

    async def _remove_target(self, m: DiskMove) -> None:
        if m.target_created:
            await self.driver.delete_target(m)

    async def resume(self, m: DiskMove) -> DiskMove:
        """After an engine restart: carry on, or clean up; see the module docstring."""
        if m.finished:
            return m
        if m.stage == CLEANING:
            raise MoveFailed(await self._clean(m, m.error or "engine restarted while cleaning"))
        if not m.past_return and m.live:
            if m.stage in ("copying", "ready") and await self.driver.job_running(m):
                return await self.run(m)  # the host kept copying while the engine was away
            if m.stage == "ready" and await self.driver.uses_target(m):
                return await self.run(self._to(m, "pivoted"))  # killed during the pivot
            if m.stage != "new":
                why = f"the engine stopped in stage {m.stage}; the move was undone"
                raise MoveFailed(await self._clean(m, why))
        if not m.past_return and not m.live and m.stage != "new":
            why = f"the engine stopped in stage {m.stage}; the move was undone"
            raise MoveFailed(await self._clean(m, why))
        return await self.run(m)


RunMove = Callable[[DiskMove], Awaitable[DiskMove]]
__all__ = ["CLEANING", "DONE", "FAILED", "MoveDriver", "MoveFailed", "MoveRunner", "RunMove"]
