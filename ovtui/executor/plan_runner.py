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
- Write-ahead: a step's outcome is stored as "started" (with the leader's fencing token) before
  it acts. An engine that takes over (or restarts) finds the plans still "running" and resumes
  them (resume): a started step is settled by the facts first (a migration the dead engine
  drove: moved, or stayed and tidied up: ovtui/fleet/leftover.py), and only a step that did not
  happen runs again, so nothing is done twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from auth.principal import Principal
from ovtui.executor.power import run_power_command
from ovtui.fleet import leftover
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
        done = doc["outcomes"]
        if only is not None:
            indices = [only] if not _done(done[only]) else []
        else:
            indices = [i for i in range(len(plan.steps)) if not _done(done[i])]
        run = _Run(self, plan, principal, approved_by)
        self.plans.set_run(plan.id, {"only": only, "approved_by": approved_by, "token": run.token})
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

    async def resume(self, doc: dict[str, Any]) -> list[str]:
        """Settles the steps a previous engine had started (outcome "started") by the facts:
        done when what it did is there, back to pending when it did not happen, failed when
        it cannot tell. Returns what it found, a line per step."""
        plan = self.plans.plan(doc)
        lines: list[str] = []
        for index, outcome in enumerate(doc["outcomes"]):
            if not outcome or outcome["status"] != "started":
                continue
            step = plan.steps[index]
            who = f"step {index + 1} ({step.describe()}, started with token {outcome.get('token')})"
            try:
                happened, detail = await self._settle(step)
            except FleetError as exc:
                self._set(plan.id, index, "failed", f"after a takeover: {exc.message}", outcome)
                lines.append(f"{who}: cannot tell: {exc.message}")
                continue
            if happened:
                self._set(plan.id, index, "done", f"found done after a takeover: {detail}", outcome)
                lines.append(f"{who}: done before the takeover: {detail}")
            else:
                lines.append(f"{who}: had not happened ({detail}): runs again")
        return lines

    def _set(
        self, plan_id: str, index: int, status: str, detail: str, claim: dict[str, Any]
    ) -> None:
        token = self.engine.lead_token()
        self.plans.set_outcome(plan_id, index, {
            "status": status, "detail": detail, "at": time.time(), "by": claim.get("by", ""),
            "token": token, "claimed_with": claim.get("token"),
        })  # fmt: skip

    async def _settle(self, step: Step) -> tuple[bool, str]:
        fleet = self.engine.fleet
        hosts = [step.host] + ([step.target] if step.kind == StepKind.MIGRATE else [])
        for host in hosts:
            if not await self._connected(host, self.engine.config.engine.migration_timeout_seconds):
                raise FleetError(f"{host} did not answer after the takeover", host=host)
        if step.kind == StepKind.MIGRATE:
            timeout = self.engine.config.engine.migration_timeout_seconds
            where, detail = await leftover.settle(
                fleet.links[step.host], fleet.links[step.target], step.vm_uuid, step.vm_name,
                timeout,
            )  # fmt: skip
            await fleet.refresh_now(step.host, step.target)
            return where == "moved", detail
        state = self.engine.store.host_state(step.host)
        if step.kind == StepKind.MAINTENANCE:
            # the flag comes first, then the evacuation: done only when both are
            left = [v.name for v in self.engine.snapshot().vms if v.host == step.host and v.active]
            flagged = bool(state.get("maintenance"))
            return flagged and not left, f"maintenance {flagged}, VMs on it: {left or 'none'}"
        if step.kind == StepKind.ACTIVATE:
            return not state.get("maintenance"), f"maintenance {bool(state.get('maintenance'))}"
        return False, "a power command is safe to send again"

    async def _connected(self, host: str, timeout: float = BOOT_TIMEOUT_SECONDS) -> bool:
        link = self.engine.fleet.links.get(host)
        if link is None:
            return False
        deadline = time.monotonic() + timeout
        while link.state != HostState.UP:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.5)
        return True


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
        self.runner = runner
        self.engine = runner.engine
        self.plans = runner.plans
        self.token = runner.engine.lead_token()
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
        self.plans.set_outcome(self.plan.id, index, {**outcome, "token": self.token})
        self.results.append({"index": index, "step": step.describe(), **outcome})

    def claim(self, index: int, detail: str) -> None:
        """Write-ahead, before the step acts: an engine that takes over knows it may have."""
        outcome = {"status": "started", "detail": detail, "at": time.time(),
                   "by": self.principal.name, "token": self.token}  # fmt: skip
        self.plans.set_outcome(self.plan.id, index, outcome)

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
        self.claim(index, f"migrating {step.vm_name} from {vm.host} to {step.target}")
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
        self.claim(index, step.describe())
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
        return await self.runner._connected(host)
