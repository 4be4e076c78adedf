"""HA metrics: fence operations and HA restarts by result, HA VMs down, recoveries under way,
and whether each cluster could take the HA VMs of any one failed host (reservation)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

FENCE_RESULTS = ("ok", "failed", "manual")
RESTART_RESULTS = ("ok", "failed")


class HaMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.fence_ops = Counter(
            "ovtui_fence_operations",
            "Host fences by result: ok (power-off confirmed), failed (the BMC did not do it or "
            "did not answer), manual (an operator confirmed the host was rebooted)",
            ["result"],
            registry=registry,
        )
        self.restarts = Counter(
            "ovtui_ha_restarts", "HA VM restarts by result", ["result"], registry=registry
        )
        self.vms_down = Gauge(
            "ovtui_ha_vms_down",
            "HA VMs waiting to be restarted (their host fenced or awaiting confirmation, or "
            "crashed)",
            registry=registry,
        )
        self.hosts_unfenced = Gauge(
            "ovtui_ha_hosts_awaiting_fence",
            "Non-responsive hosts not fenced yet: held by a guard, failing, or waiting for an "
            "operator's confirmation",
            registry=registry,
        )
        self.reservation = Gauge(
            "ovtui_ha_reservation_ok",
            "1 when the other hosts of the cluster can take the HA VMs of any one failed host",
            ["cluster"],
            registry=registry,
        )
        for r in FENCE_RESULTS:
            self.fence_ops.labels(r)
        for r in RESTART_RESULTS:
            self.restarts.labels(r)
