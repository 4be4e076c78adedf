"""APScheduler 3 (AsyncIOScheduler, in the engine's own loop) running the policy jobs.

Per cluster with a policy:
- "balance:CLUSTER"       every balance_interval_seconds (IntervalTrigger);
- "power_saving:CLUSTER"  for power_saving clusters, every power_saving_interval_minutes inside
                          power_saving_window (CronTrigger on the window's hours; minutes at the
                          window's edges are checked when the job fires).
Plus "sample-load": every poll interval, one CPU sample per host for the planners' history.

Every job: max_instances=1 (a run that is still going when the next is due makes APScheduler
skip the new one, recorded as skipped), coalesce=True (runs missed while the loop was busy
collapse into one), misfire_grace_time = one period (later than that, the next run is as good).

Restarts. The jobs themselves come from the config, so they are not stored; what is stored (in
the Store, table "policy_jobs") is each job's run state: last start, end, result and plan, and
the next run time. At start each job's first run is derived from it: a run that fell due while
the engine was down runs once, CATCH_UP_SECONDS after start (once, however many were missed);
otherwise the stored next run is kept, so a restart neither runs a job early nor postpones it.
(A custom APScheduler job store on TinyDB was the alternative; it would pickle callables and
triggers into the state file, which breaks across code changes and duplicates the config.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from tinydb import where

from ovtui.config.policy_params import TimeWindow, parse_window
from ovtui.config.schema import Config
from ovtui.store import Store

log = logging.getLogger(__name__)


class _QuietCancel(logging.Filter):
    """APScheduler logs a job's CancelledError as an error with a traceback. Only stop() cancels
    jobs (the engine is stopping, and _fire records the run as cancelled), so drop those."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, asyncio.CancelledError)


# run_coroutine_job and the executor's callback both log on the executor's own logger.
logging.getLogger("apscheduler.executors.default").addFilter(_QuietCancel())

TABLE = "policy_jobs"
SAMPLER_ID = "sample-load"
CATCH_UP_SECONDS = 15.0

# (cluster, kind, trigger) -> {"result": ..., "plan": ...}
JobRun = Callable[[str, str, str], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class JobSpec:
    id: str
    cluster: str
    kind: str  # "balance" | "power_saving"
    interval_s: float = 60.0
    window: TimeWindow | None = None
    every_min: int = 5

    def trigger(self, tz: Any) -> BaseTrigger:
        if self.window is None:
            return IntervalTrigger(seconds=self.interval_s, timezone=tz)
        hours = ",".join(str(h) for h in self.window.hours())
        return CronTrigger(hour=hours, minute=f"*/{self.every_min}", timezone=tz)

    @property
    def period_s(self) -> float:
        return self.interval_s if self.window is None else self.every_min * 60.0

    def describe(self) -> str:
        if self.window is None:
            return f"every {self.interval_s:g} s"
        return f"every {self.every_min} min within {self.window} (local time)"


def job_specs(config: Config) -> list[JobSpec]:
    specs: list[JobSpec] = []
    for c in config.clusters:
        sched = c.scheduling
        if sched.policy == "none":
            continue
        specs.append(
            JobSpec(f"balance:{c.name}", c.name, "balance", sched.balance_interval_seconds)
        )
        if sched.policy == "power_saving":
            window = parse_window(sched.power_saving_window)
            every = sched.power_saving_interval_minutes
            specs.append(
                JobSpec(f"power_saving:{c.name}", c.name, "power_saving", window=window,
                        every_min=every)
            )  # fmt: skip
    return specs


class PolicyScheduler:
    def __init__(
        self,
        store: Store,
        specs: list[JobSpec],
        run: JobRun,
        *,
        sample: Callable[[], None] | None = None,
        sample_every_s: float = 5.0,
    ) -> None:
        self.specs = {s.id: s for s in specs}
        self._table = store.table(TABLE)
        self._run = run
        self._sample = sample
        self._sample_every = sample_every_s
        self._scheduler: AsyncIOScheduler | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._running: dict[str, float] = {}  # job -> when the run in progress began

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        sched = AsyncIOScheduler(
            event_loop=asyncio.get_running_loop(),
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self._scheduler = sched
        now = datetime.now(sched.timezone)
        for spec in self.specs.values():
            sched.add_job(
                self._fire,
                spec.trigger(sched.timezone),
                args=(spec.id,),
                id=spec.id,
                name=spec.id,
                misfire_grace_time=int(spec.period_s),
                next_run_time=self.first_run(spec, now),
            )
        if self._sample is not None and self.specs:
            sched.add_job(
                self._sample_now,
                IntervalTrigger(seconds=self._sample_every, timezone=sched.timezone),
                id=SAMPLER_ID,
                name=SAMPLER_ID,
                misfire_grace_time=int(max(1, self._sample_every)),
                next_run_time=now,
            )
        sched.add_listener(
            self._on_event,
            EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED,
        )
        sched.start()
        for spec in self.specs.values():
            self._remember_next(spec.id)

    async def stop(self) -> None:
        sched, self._scheduler = self._scheduler, None
        if sched is not None and sched.running:
            sched.shutdown(wait=False)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.sleep(0)  # let the scheduler's deferred shutdown run

    @property
    def scheduler(self) -> AsyncIOScheduler | None:
        return self._scheduler

    def first_run(self, spec: JobSpec, now: datetime) -> datetime:
        """When the job runs first after a start, from its stored state (see the module doc)."""
        natural: datetime = spec.trigger(now.tzinfo).get_next_fire_time(None, now)
        stored = self.state(spec.id).get("next_run")
        if stored is None:
            return natural
        due = datetime.fromtimestamp(stored, now.tzinfo)
        if due <= now:
            if spec.window is None or spec.window.contains(now):
                return now + timedelta(seconds=CATCH_UP_SECONDS)
            return natural
        return min(due, natural)

    # -- state ---------------------------------------------------------------------------------
    def state(self, job_id: str) -> dict[str, Any]:
        doc = self._table.get(where("job") == job_id)
        return dict(doc) if doc is not None else {}

    def _save(self, job_id: str, **fields: Any) -> None:
        self._table.upsert({"job": job_id, **fields}, where("job") == job_id)

    def next_run(self, job_id: str) -> float | None:
        job = self._scheduler.get_job(job_id) if self._scheduler else None
        when = getattr(job, "next_run_time", None)
        return when.timestamp() if when is not None else None

    def _remember_next(self, job_id: str) -> None:
        self._save(job_id, next_run=self.next_run(job_id))

    def status(self, cluster: str | None = None) -> list[dict[str, Any]]:
        out = []
        for spec in self.specs.values():
            if cluster not in (None, spec.cluster):
                continue
            st = self.state(spec.id)
            out.append(
                {
                    "job": spec.id,
                    "cluster": spec.cluster,
                    "kind": spec.kind,
                    "schedule": spec.describe(),
                    "next_run": self.next_run(spec.id) or st.get("next_run"),
                    "last_start": st.get("last_start"),
                    "last_end": st.get("last_end"),
                    "last_result": st.get("last_result"),
                    "last_plan": st.get("last_plan"),
                    "running": spec.id in self._running,
                    "skipped": st.get("skipped", 0),
                    "last_skip": st.get("last_skip"),
                }
            )
        return out

    # -- running -------------------------------------------------------------------------------
    async def _sample_now(self) -> None:
        if self._sample is not None:
            self._sample()

    async def _fire(self, job_id: str) -> dict[str, Any]:
        # One write to the Store per run, at its end: the state file holds the stored plans too,
        # and every write rewrites it.
        spec = self.specs[job_id]
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        began = self._running[job_id] = time.time()
        result: dict[str, Any] = {"result": "interrupted"}
        try:
            sched = self._scheduler
            now = datetime.now(sched.timezone) if sched else datetime.now().astimezone()
            if spec.window is not None and not spec.window.contains(now):
                result = {"result": f"outside the window {spec.window}"}
            else:
                result = await self._run(spec.cluster, spec.kind, "schedule")
        except asyncio.CancelledError:
            result = {"result": "cancelled (engine stopping)"}
            raise
        except Exception as exc:
            log.exception("policy job %s failed", job_id)
            result = {"result": f"error: {exc}"}
        finally:
            if task is not None:
                self._tasks.discard(task)
            self._running.pop(job_id, None)
            self._save(
                job_id,
                last_start=began,
                last_end=time.time(),
                last_result=result.get("result"),
                last_plan=result.get("plan"),
                next_run=self.next_run(job_id),
            )
        return result

    def _on_event(self, event: JobEvent) -> None:
        if event.job_id not in self.specs:
            return
        if event.code == EVENT_JOB_MAX_INSTANCES:
            skipped = int(self.state(event.job_id).get("skipped", 0)) + 1
            self._save(
                event.job_id,
                skipped=skipped,
                last_skip={"at": time.time(), "why": "the previous run was still going"},
            )
        elif event.code == EVENT_JOB_MISSED:
            self._save(event.job_id, last_skip={"at": time.time(), "why": "missed its time"})
        else:
            return
        # APScheduler moves the job's next run time after dispatching the event.
        asyncio.get_running_loop().call_soon(self._remember_next, event.job_id)
