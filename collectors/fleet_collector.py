"""The fleet collector: host, VM, cluster and scrape-health families, current on every scrape.

Each collect() asks `inputs` for the current snapshot and the hosts' statistics. The host and VM
families are written per host and each host's text is kept until its inputs change
(collectors.host_blocks): the only state kept between scrapes is text derived from inputs that
are compared on every scrape, so series of deleted VMs and label sets of moved VMs disappear with
the next scrape. `inputs` is injected — the exporter passes one that reads the running engine;
tests pass fakes. FAMILIES is the list to extend (see host_blocks for how).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collectors import host_metrics, vm_metrics
from collectors.cluster_metrics import cluster_families
from collectors.host_blocks import HostBlocks, HostInputs
from collectors.network_metrics import HOST_FAMILIES as NETWORK_FAMILIES
from collectors.network_metrics import nic_families
from collectors.stats_cache import HostScrape
from ovtui.model import VM, Host, Snapshot

DEFAULT_BUDGET = 8.0
#: Per-host families in the order they are exposed.
FAMILIES = (
    *host_metrics.SNAPSHOT_FAMILIES,
    *host_metrics.MEASURED_FAMILIES,
    *host_metrics.SCRAPE_FAMILIES,
    *vm_metrics.SNAPSHOT_FAMILIES,
    *vm_metrics.STATS_FAMILIES,
    *NETWORK_FAMILIES,
)


@dataclass(frozen=True, slots=True)
class ScrapeInput:
    snapshot: Snapshot
    scrapes: Mapping[str, HostScrape] = field(default_factory=dict)
    # Instead of `scrapes`: the hosts' statistics as they arrive, fastest host first, so that
    # the hosts that answered are written while the slower ones are still being read (the
    # output keeps the snapshot's host order, then `order`'s for hosts it does not list).
    arriving: Iterable[HostScrape] | None = None
    order: tuple[str, ...] = ()


class FleetCollector(Collector):
    def __init__(
        self,
        inputs: Callable[[float], ScrapeInput],
        budget: Callable[[], float] = lambda: DEFAULT_BUDGET,
    ) -> None:
        """`inputs(budget)` returns what to export, waiting at most `budget` seconds for hosts."""
        self._inputs = inputs
        self._budget = budget
        self.blocks = HostBlocks(FAMILIES)

    def collect(self) -> Iterable[Metric]:
        began = time.perf_counter()
        data = self._inputs(self._budget())
        waited = [time.perf_counter() - began]
        if data.arriving is None:
            hosts = self.blocks.render(_hosts(data))
        else:

            def arrived() -> None:
                waited[0] = time.perf_counter() - began

            names = [h.name for h in data.snapshot.hosts]
            listed = set(names)
            order = [*names, *(n for n in data.order if n not in listed)]
            hosts = self.blocks.render(_as_they_arrive(data, data.arriving, arrived), order)
        took = GaugeMetricFamily(
            "ovtui_exporter_collect_duration_seconds",
            "Seconds this scrape waited for the snapshot and the hosts' statistics",
            value=waited[0],
        )
        return [
            took,
            *_nonempty(cluster_families(data.snapshot)),
            *_nonempty(nic_families(data.snapshot)),  # devices: not cached (network_metrics)
            *hosts,
        ]


def _nonempty(families: Iterable[Metric]) -> Iterator[Metric]:
    return (f for f in families if f.samples)  # a family the driver cannot fill is left out


def _hosts(data: ScrapeInput) -> Iterator[HostInputs]:
    """Every host of the snapshot, then any host with statistics the snapshot does not list."""
    exported, defined = vm_metrics.vm_inputs(data.snapshot)
    scrapes = data.scrapes
    for h in data.snapshot.hosts:
        yield _one(h.name, h, exported.get(h.name, ()), defined.get(h.name, 0), scrapes)
    listed = {h.name for h in data.snapshot.hosts}
    for name in [n for n in scrapes if n not in listed]:
        yield _one(name, None, (), 0, scrapes)


def _as_they_arrive(
    data: ScrapeInput, arriving: Iterable[HostScrape], arrived: Callable[[], None]
) -> Iterator[HostInputs]:
    """As _hosts, each host as its statistics arrive; then the hosts without any."""
    exported, defined = vm_metrics.vm_inputs(data.snapshot)
    listed = {h.name: h for h in data.snapshot.hosts}
    seen: set[str] = set()
    for scrape in arriving:
        arrived()
        name = scrape.host
        seen.add(name)
        h = listed.get(name)
        vms = exported.get(name, ()) if h is not None else ()
        yield _one(name, h, vms, defined.get(name, 0) if h is not None else 0, {name: scrape})
    for h in data.snapshot.hosts:
        if h.name not in seen:
            yield _one(h.name, h, exported.get(h.name, ()), defined.get(h.name, 0), {})


def _one(
    name: str,
    host: Host | None,
    vms: tuple[VM, ...],
    defined: int,
    scrapes: Mapping[str, HostScrape],
) -> HostInputs:
    scrape = scrapes.get(name)
    stats = scrape.stats if scrape is not None and scrape.up else None
    return HostInputs(name, host, vms, defined, stats, scrape)
