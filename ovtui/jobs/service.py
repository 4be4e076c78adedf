"""The policy service: modes, observations, planning, stored plans, execution, jobs.

One per engine (engine.policies). The API routes and the scheduled jobs both come here:

- mode(cluster): the operator's override from the Store ("policy.mode.CLUSTER"), else the config;
- preview(cluster, kind): a plan computed now, neither stored nor applied;
- run_job(cluster, kind, trigger): compute and store a plan; in automatic mode, apply it;
- apply(cluster, plan_id, principal, step=None): apply the latest stored plan, or one step of it.

Plans are computed off the event loop (asyncio.to_thread; planners are pure and the snapshot
immutable) and executed under one lock per cluster, so a job never overlaps itself or an
operator's apply. Steps run as the system principal "policy:KIND:CLUSTER" (role SuperUser,
source "system"); when an operator applied the plan, the audit record of the apply names them,
and each step's record says "plan:ID approved by NAME".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auth.principal import Principal
from ovtui.config.policy_params import parse_window
from ovtui.config.schema import ClusterConfig
from ovtui.executor.plan_runner import PlanRunner
from ovtui.fleet.errors import FleetError
from ovtui.jobs.metrics import Recorder
from ovtui.jobs.plan_store import PlanStore
from ovtui.jobs.scheduler import PolicyScheduler, job_specs
from ovtui.model import HostState
from policies.history import LoadHistory, Observations
from policies.params import parse_params
from policies.plan import Plan
from policies.planner import KINDS, make_plan

if TYPE_CHECKING:
    from ovtui.executor.engine_services import EngineServices

log = logging.getLogger(__name__)
MODES = ("off", "recommend", "automatic")
MODE_KEY = "policy.mode."
PARKED_BY = "policy:power_saving:"


def system_principal(kind: str, cluster: str) -> Principal:
    return Principal(f"policy:{kind}:{cluster}", frozenset({"SuperUser"}), source="system")


class PolicyService:
    def __init__(self, engine: EngineServices) -> None:
        self.engine = engine
        config = engine.config
        self.plans = PlanStore(engine.store)
        self.runner = PlanRunner(engine, self.plans)
        families = getattr(getattr(engine, "metrics", None), "plans", None)
        self.recorder = Recorder(families)
        self.history = LoadHistory(retain_seconds=self._retention())
        self.scheduler = PolicyScheduler(
            engine.store,
            job_specs(config),
            self._scheduled,
            sample=self.sample,
            sample_every_s=config.engine.poll_interval_seconds,
        )
        self._locks: dict[str, asyncio.Lock] = {}
        self._holder: dict[str, str] = {}
        self._resuming: asyncio.Task[None] | None = None

    def _retention(self) -> float:
        longest = max(
            (parse_params(c.scheduling.params).duration_s for c in self.engine.config.clusters),
            default=0.0,
        )
        return longest + 3 * self.engine.config.engine.poll_interval_seconds + 60

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        jobs = getattr(getattr(self.engine, "metrics", None), "jobs", None)
        if jobs is not None:
            for spec in self.scheduler.specs.values():
                jobs.declare(spec.id, "policy")
        self.scheduler.start()
        if self.plans.running():  # an engine stopped (or died) applying them: carry on
            self._resuming = asyncio.create_task(self.resume_all(), name="resume-plans")

    async def stop(self) -> None:
        if self._resuming is not None:
            self._resuming.cancel()
            await asyncio.gather(self._resuming, return_exceptions=True)
        await self.scheduler.stop()

    async def resume_all(self) -> None:
        """Holds the clusters of the plans to resume from the start (a scheduled round or an
        operator's apply waits, or is skipped, until they are resumed), then resumes them."""
        docs = self.plans.running()
        async with contextlib.AsyncExitStack() as held:
            for cluster in sorted({d["cluster"] for d in docs}):
                await held.enter_async_context(self._lock(cluster))
                self._holder[cluster] = "the resumption of an interrupted plan"
            timeout = self.engine.config.engine.migration_timeout_seconds
            await self.engine.fleet.wait_connected(timeout)
            await self.engine.inflight_settled.wait()  # leftovers of migrations tidied first
            for doc in docs:
                try:
                    await self._resume(doc)
                except Exception:  # one plan must not keep the others from resuming
                    log.exception("resuming plan %s failed", doc["id"])

    async def _resume(self, doc: dict[str, Any]) -> dict[str, Any]:
        """A plan another engine (or this one before a restart) was applying: each step it had
        started is settled by the facts, then the steps still to do run (PlanRunner.resume).
        Audited as policy.resume, by the plan's system principal. The caller holds the lock."""
        cluster, asked = doc["cluster"], doc.get("run") or {}
        plan = self.plans.plan(doc)
        principal = system_principal(plan.kind, cluster)

        async def run() -> dict[str, Any]:
            found = await self.runner.resume(doc)
            fresh = self.plans.get(plan.id) or doc
            out = await self.runner.run(fresh, principal, only=asked.get("only"),
                                        approved_by=str(asked.get("approved_by", "")))  # fmt: skip
            done = sum(1 for s in out["steps"] if s["status"] == "done")
            what = "; ".join(found) or "no step was under way"
            result = f"{out['status']}: resumed ({what}); {done} more steps done"
            return {**out, "found": found, "result": result}

        params = {"plan": plan.id, "token": self.engine.lead_token()}
        return await self.engine.perform(
            principal, "policy.resume", f"cluster/{cluster}", params, run, "system"
        )

    # -- clusters and modes --------------------------------------------------------------------
    def cluster(self, name: str) -> ClusterConfig | None:
        return next((c for c in self.engine.config.clusters if c.name == name), None)

    def mode_override(self, cluster: str) -> str | None:
        value = self.engine.store.get_setting(MODE_KEY + cluster)
        return value if value in MODES else None

    def mode(self, cluster: str) -> str:
        found = self.cluster(cluster)
        return self.mode_override(cluster) or (found.scheduling.mode if found else "off")

    def set_mode(self, cluster: str, mode: str | None) -> dict[str, Any]:
        if mode is not None and mode not in MODES:
            raise FleetError(f"mode {mode!r} is not one of {', '.join(MODES)}", kind="invalid")
        self.engine.store.set_setting(MODE_KEY + cluster, mode)
        now = self.mode(cluster)
        how = "set at run time" if mode else "reset to the config"
        return {"cluster": cluster, "mode": now, "result": f"mode {now} ({how})"}

    # -- observations --------------------------------------------------------------------------
    def sample(self) -> None:
        snap = self.engine.snapshot()
        loads = {
            h.name: h.cpu_usage for h in snap.hosts if h.state == HostState.UP and not h.maintenance
        }
        self.history = self.history.add(time.time(), loads)

    def observations(self, now: float) -> Observations:
        parked: dict[str, float] = {}
        last: dict[str, float] = {}
        for host in self.engine.config.hosts:
            st = self.engine.store.host_state(host.name)
            if st.get("maintenance") and str(st.get("by", "")).startswith(PARKED_BY):
                parked[host.name] = float(st.get("since") or 0.0)
            if st.get("last_power_action") is not None:
                last[host.name] = float(st["last_power_action"])
        return Observations(now, self.history, parked, last)

    # -- planning ------------------------------------------------------------------------------
    def default_kind(self, cluster: str) -> str:
        """power_saving inside the cluster's window, else balance."""
        found = self.cluster(cluster)
        if found is None or found.scheduling.policy != "power_saving":
            return "balance"
        window = parse_window(found.scheduling.power_saving_window)
        return "power_saving" if window.contains(datetime.now().astimezone()) else "balance"

    async def preview(self, cluster: str, kind: str | None = None) -> Plan:
        kind = kind or self.default_kind(cluster)
        if kind not in KINDS:
            raise FleetError(f"kind {kind!r} is not one of {', '.join(KINDS)}", kind="invalid")
        self.sample()
        snap = self.engine.snapshot()
        obs = self.observations(time.time())
        return await asyncio.to_thread(make_plan, snap, cluster, kind, obs)

    def _lock(self, cluster: str) -> asyncio.Lock:
        return self._locks.setdefault(cluster, asyncio.Lock())

    def busy(self, cluster: str) -> str | None:
        return self._holder.get(cluster) if self._lock(cluster).locked() else None

    async def _scheduled(self, cluster: str, kind: str, trigger: str) -> dict[str, Any]:
        if kind == "balance" and self.default_kind(cluster) == "power_saving":
            return {"result": "inside the power-saving window: the power_saving job runs instead"}
        jobs = getattr(getattr(self.engine, "metrics", None), "jobs", None)
        if jobs is None:
            return await self.run_job(cluster, kind, trigger)
        with jobs.track(f"{kind}:{cluster}", "policy"):
            return await self.run_job(cluster, kind, trigger)

    async def run_job(self, cluster: str, kind: str, trigger: str = "schedule") -> dict[str, Any]:
        """One round: plan, store, and in automatic mode apply. Never overlaps another round or
        apply on the same cluster (it is skipped instead)."""
        mode = self.mode(cluster)
        if mode == "off":
            return {"result": "mode off: nothing planned", "plan": None}
        holder = self.busy(cluster)
        if holder:
            return {"result": f"skipped: {holder} is still running on {cluster}", "plan": None}
        async with self._lock(cluster):
            self._holder[cluster] = f"the {kind} round ({trigger})"
            plan = await self.preview(cluster, kind)
            doc = self.plans.save(plan, mode=mode, trigger=trigger)
            plan = self.plans.plan(doc)
            self.recorder.record(plan)
            if mode != "automatic" or not plan.steps:
                return {"result": f"{mode}: {plan.summary}", "plan": plan.id}
            principal = system_principal(kind, cluster)

            async def run() -> dict[str, Any]:
                out = await self.runner.run(doc, principal)
                return {**out, "result": f"{out['status']}: {plan.summary}"}

            out = await self.engine.perform(
                principal, "policy.apply", f"cluster/{cluster}", {"plan": plan.id}, run, "system"
            )
            return {"result": f"automatic: {out['result']}", "plan": plan.id, "run": out}

    async def apply(
        self,
        cluster: str,
        principal: Principal,
        *,
        plan_id: str | None = None,
        step: int | None = None,
    ) -> dict[str, Any]:
        """Applies the latest stored plan (or one step of it) as the policy's system principal."""
        doc = self.plans.get(plan_id) if plan_id else self.plans.latest(cluster)
        if doc is None or doc["cluster"] != cluster:
            if plan_id:
                raise LookupError(f"no plan {plan_id!r} for cluster {cluster}")
            return {"result": f"nothing to apply: no plan stored for {cluster} yet", "steps": []}
        latest = self.plans.latest(cluster)
        if latest is not None and latest["id"] != doc["id"]:
            raise FleetError(
                f"plan {doc['id']} was superseded by plan {latest['id']}: review that one "
                f"(ovtui policy show {cluster}) and apply it",
                kind="conflict",
            )
        plan = self.plans.plan(doc)
        pending = [i for i, o in enumerate(doc["outcomes"]) if not o or o["status"] != "done"]
        if not plan.steps:
            return {"plan": plan.id, "result": f"nothing to apply: plan {plan.id} has no steps",
                    "steps": []}  # fmt: skip
        if step is not None:
            if not 0 <= step < len(plan.steps):
                raise LookupError(f"plan {plan.id} has steps 0 to {len(plan.steps) - 1}")
            if step not in pending:
                raise FleetError(f"step {step} of plan {plan.id} is already done", kind="conflict")
        elif not pending:
            return {"plan": plan.id, "result": f"nothing to apply: plan {plan.id} is already "
                    "applied", "steps": []}  # fmt: skip
        holder = self.busy(cluster)
        if holder:
            raise FleetError(f"{holder} is running on {cluster}: try again when it has finished",
                             kind="conflict")  # fmt: skip
        async with self._lock(cluster):
            self._holder[cluster] = f"an apply by {principal.name}"
            out = await self.runner.run(
                doc, system_principal(plan.kind, cluster), only=step, approved_by=principal.name
            )
        done = sum(1 for s in out["steps"] if s["status"] == "done")
        out["result"] = f"{out['status']}: {done} of {len(out['steps'])} steps done"
        if out["stopped"]:
            out["result"] += f"; stopped at {out['stopped']}"
        return out

    # -- reading -------------------------------------------------------------------------------
    def status(self, cluster: str) -> dict[str, Any]:
        found = self.cluster(cluster)
        assert found is not None
        latest = self.plans.latest(cluster)
        return {
            "cluster": cluster,
            "policy": found.scheduling.policy,
            "mode": self.mode(cluster),
            "mode_source": "override" if self.mode_override(cluster) else "config",
            "config_mode": found.scheduling.mode,
            "params": parse_params(found.scheduling.params).describe(),
            "power_saving_window": found.scheduling.power_saving_window,
            "jobs": self.scheduler.status(cluster),
            "busy": self.busy(cluster),
            "latest_plan": None
            if latest is None
            else {k: latest[k] for k in ("id", "kind", "created_at", "mode", "status", "trigger")}
            | {"summary": latest["plan"]["summary"], "steps": len(latest["plan"]["steps"])},
            "last_round": self.recorder.last.get(cluster),
        }
