"""Where plan figures go: the engine's Prometheus families (collectors/plan_metrics.py) when the
engine has them, and always a small in-memory record of the last round per cluster (for the API).

The recorder is an interface so that the planners' callers never depend on prometheus_client.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from policies.plan import Plan


class PlanRecorder(Protocol):
    def record(self, plan: Plan) -> None: ...


class _Families(Protocol):
    def record(
        self,
        *,
        cluster: str,
        policy: str,
        imbalance_before: float,
        imbalance_after: float,
        hosts_released: int,
        migrations: int,
    ) -> None: ...


class Recorder:
    """Keeps the last round per cluster and forwards it to the Prometheus families if given."""

    def __init__(self, families: _Families | None = None) -> None:
        self._families = families
        self.last: dict[str, dict[str, Any]] = {}

    def record(self, plan: Plan) -> None:
        m = plan.metrics
        self.last[plan.cluster] = {"at": time.time(), "kind": plan.kind, "plan": plan.id,
                                   "summary": plan.summary, **vars_of(m)}  # fmt: skip
        if self._families is not None:
            self._families.record(
                cluster=plan.cluster,
                policy=plan.policy,
                imbalance_before=m.cpu_stddev_before,
                imbalance_after=m.cpu_stddev_after,
                hosts_released=m.hosts_released,
                migrations=m.migrations,
            )


def vars_of(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}
