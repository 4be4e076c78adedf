"""A short client-side memory of utilisation, fed by the polls, for the overview's sparklines.

The engine keeps the real time series (Prometheus scrapes it); this is only what one dashboard
session has seen, so it starts empty and is bounded: SAMPLES per host, cluster and data center.
A sample is a poll that brought new figures: one whose answer equals the last adds none.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from ovtui.tui.rows import FleetData, HostRow

SAMPLES = 60


@dataclass(frozen=True, slots=True)
class Load:
    """Utilisation of a group of hosts: CPU weighted by CPU count, memory by capacity."""

    cpu: float | None
    memory: float | None
    synthetic: bool

    @classmethod
    def of(cls, hosts: Iterable[HostRow]) -> Load:
        cpus = used = total = 0
        busy = 0.0
        synthetic = False
        for h in hosts:
            synthetic |= h.synthetic
            if h.cpu_usage is not None and h.cpus:
                busy += h.cpu_usage * h.cpus
                cpus += h.cpus
            used += h.memory_used_mib
            total += h.memory_mib
        return cls(busy / cpus if cpus else None, used / total if total else None, synthetic)


def group_key(*parts: str) -> str:
    """'dc1', 'dc1/prod-a', 'dc1/prod-a/kvm-a01': one namespace for every level."""
    return "/".join(parts)


class History:
    def __init__(self, samples: int = SAMPLES) -> None:
        self.samples = samples
        self.cpu: dict[str, deque[float]] = {}
        self.memory: dict[str, deque[float]] = {}

    def record(self, fleet: FleetData) -> None:
        groups: dict[str, list[HostRow]] = {}
        for h in fleet.hosts:
            for key in (
                group_key(h.datacenter),
                group_key(h.datacenter, h.cluster),
                group_key(h.datacenter, h.cluster, h.name),
            ):
                groups.setdefault(key, []).append(h)
        for key, hosts in groups.items():
            load = Load.of(hosts)
            self._add(self.cpu, key, load.cpu)
            self._add(self.memory, key, load.memory)
        for series in (self.cpu, self.memory):  # a host that left the fleet costs nothing
            for gone in series.keys() - groups.keys():
                del series[gone]

    def _add(self, series: dict[str, deque[float]], key: str, value: float | None) -> None:
        if value is not None:
            series.setdefault(key, deque(maxlen=self.samples)).append(value)


BLOCKS = "▁▂▃▄▅▆▇█"


def spark(values: Iterable[float], width: int) -> str:
    """The last `width` values as block characters on a fixed 0..100% scale (comparable rows)."""
    tail = list(values)[-width:]
    top = len(BLOCKS) - 1
    return "".join(BLOCKS[round(max(0.0, min(1.0, v)) * top)] for v in tail)
