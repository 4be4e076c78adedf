"""Scheduled-job metrics (policy rounds, housekeeping): runs by result, duration, last success.

The jobs module wraps each run::

    with engine.metrics.jobs.track("balance-prod-a", kind="policy"):
        await run_round()

A run that raises counts as failed (and the exception goes on); `declare` pre-creates a job's
series at zero so that rates and alerts work before its first run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
RESULTS = ("succeeded", "failed")


class JobMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs = Counter(
            "ovtui_job_runs", "Job runs by result", ["job", "kind", "result"], registry=registry
        )
        self.duration = Histogram(
            "ovtui_job_duration_seconds",
            "Duration of job runs, failed ones included",
            ["job", "kind"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.running = Gauge(
            "ovtui_jobs_running", "Job runs in progress", ["job", "kind"], registry=registry
        )
        self.last_success = Gauge(
            "ovtui_job_last_success_timestamp_seconds",
            "Unix time the job last finished without error",
            ["job", "kind"],
            registry=registry,
        )

    def declare(self, job: str, kind: str = "policy") -> None:
        for result in RESULTS:
            self.runs.labels(job, kind, result)
        self.duration.labels(job, kind)
        self.running.labels(job, kind)

    def record(self, job: str, kind: str, seconds: float, ok: bool) -> None:
        self.runs.labels(job, kind, RESULTS[0] if ok else RESULTS[1]).inc()
        self.duration.labels(job, kind).observe(seconds)
        if ok:
            self.last_success.labels(job, kind).set(time.time())

    @contextmanager
    def track(self, job: str, kind: str = "policy") -> Iterator[None]:
        running = self.running.labels(job, kind)
        running.inc()
        began, ok = time.monotonic(), False
        try:
            yield
            ok = True
        finally:
            running.dec()
            self.record(job, kind, time.monotonic() - began, ok)
