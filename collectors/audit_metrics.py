"""Audit trail metrics: refusals left out by the rate limit, and damage found at engine start."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class AuditMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.dropped = Counter(
            "ovtui_audit_unauthenticated_dropped",
            "Refused requests of callers not signed in (401s) that were not written to the "
            "audit trail because their source, or all such callers together, were over the "
            "rate limit",
            registry=registry,
        )
        self.problems = Gauge(
            "ovtui_audit_trail_problems",
            "Problems found in the audit trail when the engine started (cut short, emptied, "
            "edited last records, anchor missing): 0 when it was intact",
            registry=registry,
        )
