"""Migration metrics: started, succeeded (by mode), failed (by error kind), duration and downtime.

Engine.migrate wraps the migration itself::

    with self.metrics.migrations.attempt() as attempt:
        outcome = (await actions.migrate(...)).as_dict()
        attempt.succeeded(outcome)

Leaving the block by an exception counts a failure, labelled with the error's `kind`
(FleetError: conflict, timeout, hypervisor, unavailable, invalid; anything else: error).
Downtime is taken from the outcome's ``downtime_ms`` when the migration reports it (live
migrations on real hosts: libvirt's completed-job statistics, see ovtui.fleet.migration_ops); a
cold migration restarts the VM, so its whole duration is counted as downtime (an upper bound); an
offline move has none.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

MODES = ("live", "cold", "offline")
ERROR_KINDS = ("conflict", "timeout", "hypervisor", "unavailable", "invalid", "error")
DURATION_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
DOWNTIME_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Attempt:
    def __init__(self, owner: MigrationMetrics) -> None:
        self._owner, self.began, self.done = owner, time.monotonic(), False

    def succeeded(self, outcome: Mapping[str, Any]) -> None:
        mode = str(outcome.get("mode", "live"))
        seconds = float(outcome.get("seconds", time.monotonic() - self.began))
        downtime_ms = outcome.get("downtime_ms")
        downtime = None if downtime_ms is None else float(downtime_ms) / 1000.0
        if downtime is None and mode == "cold":
            downtime = seconds
        self._owner.succeeded(mode, seconds, downtime)
        self.done = True


class MigrationMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.started = Counter(
            "ovtui_migrations_started", "Migrations the engine started", registry=registry
        )
        self.ok = Counter(
            "ovtui_migrations_succeeded",
            "Migrations that succeeded, by mode",
            ["mode"],
            registry=registry,
        )
        self.failed = Counter(
            "ovtui_migrations_failed",
            "Migrations that failed or were refused, by error kind",
            ["kind"],
            registry=registry,
        )
        self.in_progress = Gauge(
            "ovtui_migrations_in_progress", "Migrations running now", registry=registry
        )
        self.duration = Histogram(
            "ovtui_migration_duration_seconds",
            "Duration of successful migrations, by mode",
            ["mode"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.downtime = Histogram(
            "ovtui_migration_downtime_seconds",
            "Time the VM did not run during a successful migration, by mode",
            ["mode"],
            buckets=DOWNTIME_BUCKETS,
            registry=registry,
        )
        for mode in MODES:
            self.ok.labels(mode)
            self.duration.labels(mode)
        for mode in ("live", "cold"):
            self.downtime.labels(mode)
        for kind in ERROR_KINDS:
            self.failed.labels(kind)

    def succeeded(self, mode: str, seconds: float, downtime: float | None) -> None:
        self.ok.labels(mode).inc()
        self.duration.labels(mode).observe(seconds)
        if downtime is not None:
            self.downtime.labels(mode).observe(downtime)

    @contextmanager
    def attempt(self) -> Iterator[Attempt]:
        self.started.inc()
        self.in_progress.inc()
        attempt = Attempt(self)
        try:
            yield attempt
        except BaseException as exc:
            kind = str(getattr(exc, "kind", "error"))
            self.failed.labels(kind if kind in ERROR_KINDS else "error").inc()
            raise
        finally:
            self.in_progress.dec()
