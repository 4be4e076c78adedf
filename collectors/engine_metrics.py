"""The engine's own metrics, one registry per engine: API, audit, jobs, migrations, plans, libvirt
errors.

The exporter serves this registry after adding the fleet collector to it. Tests build
``EngineMetrics()`` and read values with ``registry.get_sample_value``.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Info,
    disable_created_metrics,
)

from collectors.api_metrics import ApiMetrics
from collectors.audit_metrics import AuditMetrics
from collectors.bulk_stats import BULK, POLL_DOMAINS
from collectors.ha_metrics import HaMetrics
from collectors.job_metrics import JobMetrics
from collectors.migration_metrics import MigrationMetrics
from collectors.plan_metrics import PlanMetrics
from collectors.process_metrics import FastProcessCollector
from collectors.provision_metrics import ProvisionMetrics
from collectors.text_counter import TextCounter
from ovtui import __version__

# A `_created` series per counter and histogram doubles the series count for nothing we use.
disable_created_metrics()


class EngineMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.api = ApiMetrics(self.registry)
        self.audit = AuditMetrics(self.registry)
        self.jobs = JobMetrics(self.registry)
        self.migrations = MigrationMetrics(self.registry)
        self.plans = PlanMetrics(self.registry)
        self.ha = HaMetrics(self.registry)
        self.provision = ProvisionMetrics(self.registry)
        # Four series per host, nearly always zero: kept as text between changes (text_counter).
        self.libvirt_errors = TextCounter(
            "ovtui_libvirt_call_errors",
            "Failed libvirt calls of the inventory poll and the statistics reader, by host, "
            "call and error kind",
            ["host", "call", "kind"],
            registry=self.registry,
        )
        Info("ovtui_build", "ovtui version", registry=self.registry).info({"version": __version__})
        FastProcessCollector(registry=self.registry)  # its open-fd count without a listing

    def declare_host(self, host: str) -> None:
        """Pre-creates the host's error series at zero, so rates and panels have data."""
        for call in (BULK, POLL_DOMAINS):
            for kind in ("timeout", "hypervisor"):
                self.libvirt_errors.declare(host, call, kind)

    def libvirt_error(self, host: str, call: str, kind: str) -> None:
        self.libvirt_errors.inc(host, call, kind)
