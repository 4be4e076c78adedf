"""The fleet collector: host, VM, cluster and scrape-health families, fresh on every scrape.

It holds no per-scrape state: each collect() asks `inputs` for the current snapshot and the hosts'
statistics and turns them into new metric families, so series of deleted VMs and label sets of
moved VMs disappear with the next scrape. `inputs` is injected — the exporter passes one that
reads the running engine; tests pass fakes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collectors.cluster_metrics import cluster_families
from collectors.host_metrics import measured_families, scrape_families, snapshot_families
from collectors.network_metrics import network_families
from collectors.stats_cache import HostScrape
from collectors.vm_metrics import vm_families
from ovtui.model import Snapshot

DEFAULT_BUDGET = 8.0


@dataclass(frozen=True, slots=True)
class ScrapeInput:
    snapshot: Snapshot
    scrapes: Mapping[str, HostScrape] = field(default_factory=dict)


class FleetCollector(Collector):
    def __init__(
        self,
        inputs: Callable[[float], ScrapeInput],
        budget: Callable[[], float] = lambda: DEFAULT_BUDGET,
    ) -> None:
        """`inputs(budget)` returns what to export, waiting at most `budget` seconds for hosts."""
        self._inputs = inputs
        self._budget = budget

    def collect(self) -> Iterable[Metric]:
        began = time.perf_counter()
        data = self._inputs(self._budget())
        took = GaugeMetricFamily(
            "ovtui_exporter_collect_duration_seconds",
            "Seconds this scrape waited for the snapshot and the hosts' statistics",
            value=time.perf_counter() - began,
        )
        return _families(data, took)


def _families(data: ScrapeInput, took: Metric) -> Iterator[Metric]:
    yield took
    for family in (
        *cluster_families(data.snapshot),
        *snapshot_families(data.snapshot),
        *network_families(data.snapshot),
        *measured_families(data.scrapes),
        *scrape_families(data.scrapes),
        *vm_families(data.snapshot, data.scrapes),
    ):
        if family.samples:  # a family the driver cannot fill is left out, not sent empty
            yield family
