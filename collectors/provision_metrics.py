"""Provisioning metrics: VMs created, cloned and imported (by result, with durations), and hook
runs by event and result."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

KINDS = ("create", "clone", "import")
RESULTS = ("ok", "failed")
HOOK_RESULTS = ("ok", "refused", "failed")


class ProvisionMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.provisions = Counter(
            "ovtui_vm_provisions",
            "VMs ovtui made (create, clone, import), by result",
            ["kind", "result"],
            registry=registry,
        )
        self.duration = Histogram(
            "ovtui_vm_provision_duration_seconds",
            "Time to make a VM (placement, disks, seed, define and, if asked, start)",
            ["kind"],
            buckets=(0.5, 1, 2, 5, 10, 30, 60, 300, 1800),
            registry=registry,
        )
        self.hook_runs = Counter(
            "ovtui_hook_runs",
            "Hook runs by event and result (ok, refused, failed)",
            ["event", "result"],
            registry=registry,
        )
        for kind in KINDS:
            self.duration.labels(kind)
            for result in RESULTS:
                self.provisions.labels(kind, result)

    def provisioned(self, kind: str, result: str, seconds: float) -> None:
        self.provisions.labels(kind, result).inc()
        if result == "ok":
            self.duration.labels(kind).observe(seconds)

    def hook_ran(self, event: str, result: str) -> None:
        self.hook_runs.labels(event, result).inc()
