"""Cluster metric families: what alert rules need to compare hosts with their cluster's policy."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from ovtui.model import Snapshot


def cluster_families(snapshot: Snapshot) -> Iterator[Metric]:
    info = GaugeMetricFamily(
        "ovtui_cluster_info",
        "Cluster facts to join on `cluster`",
        labels=["cluster", "datacenter", "cpu_model", "scheduling_policy", "scheduling_mode"],
    )
    overcommit = GaugeMetricFamily(
        "ovtui_cluster_memory_overcommit_ratio",
        "Memory the cluster allows its VMs per unit of host memory (1.5 = 150%)",
        labels=["cluster"],
    )
    for c in snapshot.clusters:
        info.add_metric(
            [c.name, c.datacenter, c.cpu_model, c.scheduling_policy, c.scheduling_mode], 1
        )
        overcommit.add_metric([c.name], c.memory_overcommit_percent / 100)
    yield from (info, overcommit)
