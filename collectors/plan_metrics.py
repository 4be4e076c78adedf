"""Policy plan metrics: one round of a policy on a cluster, recorded by the policy job.

    engine.metrics.plans.record(
        cluster="prod-a", policy="evenly_distributed",
        imbalance_before=0.31, imbalance_after=0.12,   # the policy's own measure, 0-1
        hosts_released=0, migrations=3,
    )

Gauges hold the last round per (cluster, policy); the counter and the histogram keep every round.
`declare` pre-creates a cluster's round counter at zero (the exporter declares every cluster whose
scheduling policy is not "none").
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

MIGRATION_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 20, 50, 100)


class PlanMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["cluster", "policy"]

        def gauge(name: str, doc: str) -> Gauge:
            return Gauge(name, doc, labels, registry=registry)

        self.rounds = Counter(
            "ovtui_plan_rounds", "Policy rounds planned", labels, registry=registry
        )
        self.before = gauge(
            "ovtui_plan_imbalance_before_ratio", "Imbalance the last round started from, 0-1"
        )
        self.after = gauge(
            "ovtui_plan_imbalance_after_ratio", "Imbalance the last round's plan leads to, 0-1"
        )
        self.released = gauge("ovtui_plan_hosts_released", "Hosts the last round's plan frees")
        self.moves = gauge("ovtui_plan_migrations", "Migrations in the last round's plan")
        self.last = gauge("ovtui_plan_last_round_timestamp_seconds", "Unix time of the last round")
        self.per_round = Histogram(
            "ovtui_plan_round_migrations",
            "Migrations per policy round",
            labels,
            buckets=MIGRATION_BUCKETS,
            registry=registry,
        )

    def declare(self, cluster: str, policy: str) -> None:
        self.rounds.labels(cluster, policy)
        self.per_round.labels(cluster, policy)

    def record(
        self,
        *,
        cluster: str,
        policy: str,
        imbalance_before: float,
        imbalance_after: float,
        hosts_released: int,
        migrations: int,
    ) -> None:
        self.rounds.labels(cluster, policy).inc()
        self.before.labels(cluster, policy).set(imbalance_before)
        self.after.labels(cluster, policy).set(imbalance_after)
        self.released.labels(cluster, policy).set(hosts_released)
        self.moves.labels(cluster, policy).set(migrations)
        self.last.labels(cluster, policy).set(time.time())
        self.per_round.labels(cluster, policy).observe(migrations)
