"""Runs a stored plan's steps: bounded, re-checked against the current snapshot, and audited.

- Consecutive migrations form a batch that runs at most MaxParallelMigrations at a time (the
  cluster's lock in the policy service keeps it per cluster); any other step runs alone, after
  everything before it has finished.
- Right before each step its premises are checked again (policies/premises.py). When one no
  longer holds, the plan stops: that step and every step not yet started are not run.
- A migration that fails leaves its VM where it was (the fleet guarantees it) and is recorded as
  failed; the rest of its batch goes on, and the next host step re-checks what it needs.
- Every step goes through Engine.migrate / enter_maintenance / activate / perform, so it lands in
  the audit trail (and migrations in the migration history) under the principal given, with
  source "plan:ID".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from auth.principal import Principal
from ovtui.executor.power import run_power_command
from ovtui.fleet.errors import FleetError
from ovtui.model import HostState
from policies.params import Params, parse_params
from policies.plan import Plan, Step, StepKind
from policies.premises import host_premise, migrate_premise

if TYPE_CHECKING:
    from ovtui.executor.engine_services import EngineServices
    from ovtui.jobs.plan_store import PlanStore

#: How long a powered-on host may take to boot and answer libvirt before activation gives up.
BOOT_TIMEOUT_SECONDS = 600.0


def batches(indices: Sequence[int], steps: Sequence[Step]) -> list[list[int]]:
    """Consecutive migrations together, every other step on its own, in plan order."""
    out: list[list[int]] = []
    for i in sorted(indices):
        migrate = steps[i].kind == StepKind.MIGRATE
        if migrate and out and steps[out[-1][-1]].kind == StepKind.MIGRATE and out[-1][-1] == i - 1:
            out[-1].append(i)
        else:
            out.append([i])
    return out


class PlanRunner:
    def __init__(self, engine: EngineServices, plans: PlanStore) -> None:
        self.engine = engine
        self.plans = plans

    async def run(
        self,
        doc: dict[str, Any],
        principal: Principal,
        *,
        only: int | None = None,
        approved_by: str = "",
    ) -> dict[str, Any]:
        plan = self.plans.plan(doc)
        if only is not None:
            indices = [only]
        else:
            done = doc["outcomes"]
            indices = [i for i in range(len(plan.steps)) if not _done(done[i])]
        run = _Run(self, plan, principal, approved_by)
        self.plans.set_status(plan.id, "running")
        try:
            for group in batches(indices, plan.steps):
                if run.stopped:
                    for i in group:
                        run.record(i, "not_run", f"plan stopped: {run.stopped}")
                elif plan.steps[group[0]].kind == StepKind.MIGRATE:
                    await run.migrations(group)
                else:
                    await run.host_step(group[0])
        finally:
            latest = self.plans.get(plan.id) or doc
            status = _status(latest["outcomes"], run)
            self.plans.set_status(plan.id, status)
        return {
            "plan": plan.id,
            "cluster": plan.cluster,
            "status": status,
            "stopped": run.stopped,
            "steps": run.results,
        }


def _done(outcome: dict[str, Any] | None) -> bool:
    return bool(outcome) and outcome["status"] == "done"  # type: ignore[index]


def _status(outcomes: list[dict[str, Any] | None], run: _Run) -> str:
    if run.stopped:
        return "stopped"
    states = [o["status"] if o else "pending" for o in outcomes]
    if all(s == "done" for s in states):
        return "applied"
    if any(s == "done" for s in states):
        return "partial"
    return "failed" if any(s == "failed" for s in states) else "recommended"


class _Run:
    def __init__(self, runner: PlanRunner, plan: Plan, principal: Principal, approved_by: str):
        self.engine = runner.engine
        self.plans = runner.plans
        self.plan = plan
        self.principal = principal
        self.source = f"plan:{plan.id}" + (f" approved by {approved_by}" if approved_by else "")
        snap = self.engine.snapshot()
        found = snap.cluster(plan.cluster)
        self.params: Params = parse_params(found.scheduling_params if found else {})
        self.moves = [s for s in plan.steps if s.kind == StepKind.MIGRATE]
        self.started: list[Step] = []
        self.stopped: str | None = None
        self.results: list[dict[str, Any]] = []

    def record(self, index: int, status: str, detail: str) -> None:
        step = self.plan.steps[index]
        outcome = {"status": status, "detail": detail, "at": time.time(), "by": self.principal.name}
        self.plans.set_outcome(self.plan.id, index, outcome)
        self.results.append({"index": index, "step": step.describe(), **outcome})

    def stop(self, index: int, why: str) -> None:
        self.stopped = f"step {index + 1} ({self.plan.steps[index].describe()}): {why}"
        self.record(index, "stopped", f"premise no longer holds: {why}")

    async def migrations(self, group: list[int]) -> None:
        gate = asyncio.Semaphore(self.params.parallel_migrations)

        async def one(index: int) -> None:
            async with gate:
                await self._migrate(index)

        await asyncio.gather(*(one(i) for i in group))

    async def _migrate(self, index: int) -> None:
        step = self.plan.steps[index]
        if self.stopped:
            self.record(index, "not_run", f"plan stopped: {self.stopped}")
            return
        snap = self.engine.snapshot()
        why = migrate_premise(snap, step, self.params, self.moves, self.started)
        vm = snap.vm(step.vm_uuid)
        if why or vm is None:
            self.stop(index, why or f"{step.vm_name} no longer exists")
            return
        self.started.append(step)
        try:
            out = await self.engine.migrate(self.principal, vm, step.target, self.source)
        except FleetError as exc:
            self.started.remove(step)
            self.record(index, "failed", exc.message)
            return
        self.record(index, "done", f"{out['mode']} migration in {out['seconds']:.1f} s")

    async def host_step(self, index: int) -> None:
        step = self.plan.steps[index]
        fleet = self.engine.fleet
        if step.kind == StepKind.ACTIVATE and not await self._connected(step.host):
            self.record(index, "failed", f"{step.host} did not come back within "
                        f"{BOOT_TIMEOUT_SECONDS:.0f} s")  # fmt: skip
            self.stopped = f"step {index + 1} ({step.describe()}): host did not come back"
            return
        link = fleet.links.get(step.host)
        if link is not None and link.state == HostState.UP:
            try:
                await fleet.refresh(step.host)
            except FleetError:
                pass
        why = host_premise(self.engine.snapshot(), step)
        if why:
            self.stop(index, why)
            return
        try:
            detail = await self._act(step)
        except FleetError as exc:
            self.record(index, "failed", exc.message)
            self.stopped = f"step {index + 1} ({step.describe()}) failed: {exc.message}"
            return
        self.engine.store.set_host_state(step.host, last_power_action=time.time())
        self.record(index, "done", detail)

    async def _act(self, step: Step) -> str:
        engine, who, host = self.engine, self.principal, step.host
        if step.kind == StepKind.MAINTENANCE:
            out = await engine.enter_maintenance(who, host, step.reason, self.source)
            return str(out["result"])
        if step.kind == StepKind.ACTIVATE:
            out = await engine.activate(who, host, self.source)
            return str(out["result"])
        action = "off" if step.kind == StepKind.POWER_OFF else "on"
        cfg = next(h for h in engine.config.hosts if h.name == host)

        async def power() -> dict[str, Any]:
            return await run_power_command(cfg, action)

        out = await engine.perform(
            who, f"host.power_{action}", f"host/{host}", {"plan": self.plan.id}, power, self.source
        )
        engine.store.set_host_state(host, power=action)
        return str(out["result"])

    async def _connected(self, host: str) -> bool:
        link = self.engine.fleet.links.get(host)
        if link is None:
            return False
        deadline = time.monotonic() + BOOT_TIMEOUT_SECONDS
        while link.state != HostState.UP:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.5)
        return True
