"""Storage families: per domain and host capacity, allocation, available bytes and state; per
disk capacity and allocation; disk moves started, succeeded, failed and their durations.

Like the fleet collector it keeps no per-scrape state: each collect() asks `inputs` for plain
data (the engine builds it from its cached storage readings, on its own loop), so the series of
a deleted disk disappear with the next scrape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

POOL_STATES = ("active", "inactive", "building", "degraded", "inaccessible", "error", "unknown")
MOVE_BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


@dataclass(frozen=True, slots=True)
class PoolSample:
    domain: str
    host: str
    type: str
    state: str
    capacity: int
    allocation: int
    available: int


@dataclass(frozen=True, slots=True)
class DiskSample:
    domain: str
    disk: str
    vm: str  # "" when no VM uses it
    capacity: int
    allocation: int


@dataclass(frozen=True, slots=True)
class StorageInput:
    pools: Sequence[PoolSample] = ()
    disks: Sequence[DiskSample] = ()
    moves_started: int = 0
    moves_succeeded: int = 0
    moves_failed: int = 0
    move_seconds: Sequence[float] = field(default_factory=tuple)


class StorageCollector(Collector):
    def __init__(self, inputs: Callable[[], StorageInput]) -> None:
        self._inputs = inputs

    def collect(self) -> Iterable[Metric]:
        return storage_families(self._inputs())


def storage_families(data: StorageInput) -> list[Metric]:
    labels = ["domain", "host", "type"]
    cap = GaugeMetricFamily(
        "ovtui_storage_domain_capacity_bytes",
        "Size of the storage domain as its pool on the host reports it",
        labels=labels,
    )
    alloc = GaugeMetricFamily(
        "ovtui_storage_domain_allocation_bytes", "Bytes used in the storage domain", labels=labels
    )
    avail = GaugeMetricFamily(
        "ovtui_storage_domain_available_bytes", "Bytes free in the storage domain", labels=labels
    )
    state = GaugeMetricFamily(
        "ovtui_storage_domain_state",
        "1 for the state the domain's pool is in on the host",
        labels=["domain", "host", "state"],
    )
    for p in data.pools:
        key = [p.domain, p.host, p.type]
        if p.state == "active" or p.capacity:  # sizes of the last reading that had them
            cap.add_metric(key, p.capacity)
            alloc.add_metric(key, p.allocation)
            avail.add_metric(key, p.available)
        for s in POOL_STATES:
            state.add_metric([p.domain, p.host, s], 1.0 if s == p.state else 0.0)
    dcap = GaugeMetricFamily(
        "ovtui_disk_capacity_bytes",
        "Size of the disk as its guest sees it",
        labels=["domain", "disk", "vm"],
    )
    dalloc = GaugeMetricFamily(
        "ovtui_disk_allocation_bytes",
        "Bytes the disk really takes in its storage domain",
        labels=["domain", "disk", "vm"],
    )
    for d in data.disks:
        dcap.add_metric([d.domain, d.disk, d.vm], d.capacity)
        dalloc.add_metric([d.domain, d.disk, d.vm], d.allocation)
    started = CounterMetricFamily("ovtui_disk_moves_started", "Disk moves started")
    started.add_metric([], data.moves_started)
    done = CounterMetricFamily("ovtui_disk_moves_succeeded", "Disk moves that finished")
    done.add_metric([], data.moves_succeeded)
    failed = CounterMetricFamily(
        "ovtui_disk_moves_failed", "Disk moves that failed (undone, or stuck past the pivot)"
    )
    failed.add_metric([], data.moves_failed)
    duration = HistogramMetricFamily(
        "ovtui_disk_move_duration_seconds", "Time from a disk move's start to its end"
    )
    buckets = [(str(b), float(sum(1 for s in data.move_seconds if s <= b))) for b in MOVE_BUCKETS]
    buckets.append(("+Inf", float(len(data.move_seconds))))
    duration.add_metric([], buckets, sum_value=float(sum(data.move_seconds)))
    return [cap, alloc, avail, state, dcap, dalloc, started, done, failed, duration]
