"""Bulk VM actions on the selection: one confirmation, a few at a time, one summary."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

from textual.app import App

from ovtui.client import AsyncClient
from ovtui.tui.activity import Activity
from ovtui.tui.bulk_job import BulkJob, question
from ovtui.tui.bulk_progress import BulkProgress
from ovtui.tui.confirm import ConfirmScreen
from ovtui.tui.rights import Rights
from ovtui.tui.rows import VmRow
from ovtui.tui.vm_actions import ACTIONS, PERMISSION_OF_KEY, call, resolve

AT_ONCE = 4  # actions in flight: the engine serialises per host anyway; this keeps it fair


class BulkRunner:
    def __init__(
        self,
        app: App[Any],
        client: AsyncClient,
        rights: Callable[[], Rights],
        activity: Activity,
        changed: Callable[[], None],
    ) -> None:
        self.app, self.client, self.rights = app, client, rights
        self.activity, self.changed = activity, changed
        self.jobs: list[BulkJob] = []  # finished jobs, newest last; tests read them
        self._tokens = itertools.count(1_000_000)  # apart from single actions' tokens

    def request(self, vms: list[VmRow], action: str) -> None:
        self.app.run_worker(self._interactive(vms, action), group="bulk-actions")

    async def _interactive(self, vms: list[VmRow], action: str) -> None:
        if action == "migrate":
            self.app.notify(
                "migrate one VM at a time (esc clears the selection)", severity="warning"
            )
            return
        rights = self.rights()
        allowed = [v for v in vms if rights.on_vm(PERMISSION_OF_KEY[action], v)]
        if not allowed:
            self.app.notify(
                f"you may not {action} any of the {len(vms)} selected VMs", severity="error"
            )
            return
        disruptive = any(ACTIONS[resolve(v, action)].confirm for v in allowed)
        if disruptive:
            ask = ConfirmScreen(question(allowed, action, len(vms) - len(allowed)))
            if not await self.app.push_screen_wait(ask):
                return
        await self.perform(allowed, action)

    async def perform(self, vms: list[VmRow], action: str) -> BulkJob:
        """The job itself, without questions: a progress screen, then the summary."""
        job = BulkJob.of(vms, action)
        token = next(self._tokens)
        self.activity.start(token, job.progress + "…")
        self.app.push_screen(BulkProgress(job))
        gate = asyncio.Semaphore(AT_ONCE)

        async def one(i: int) -> None:
            item = job.items[i]
            async with gate:
                item.running = True
                job.changed()
                item.outcome = await call(self.client, item.vm, item.action)
            self.activity.start(token, job.progress + "…")
            job.changed()
            self.changed()

        await asyncio.gather(*(one(i) for i in range(len(job.items))))
        ok = not job.failed
        self.activity.finish(token, job.summary.splitlines()[0], ok)
        self.jobs.append(job)
        self.app.notify(
            job.summary,
            title="bulk action done" if ok else "bulk action: some failed",
            severity="information" if ok else "error",
            timeout=8 if ok else 15,
            markup=False,
        )
        self.changed()
        return job
