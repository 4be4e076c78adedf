"""Weighers rank the hosts that passed the filters. Normalisation lives here, like nova's.

Each weigher gives a raw number per candidate (bigger = better for that weigher); the base
scales the raw numbers of one round to 0..1 (min-max; all equal -> all 0) and adds them up,
each times its multiplier. A negative multiplier turns "spread" into "pack".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from policies.state import HostRoom


@dataclass(frozen=True, slots=True)
class Ask:
    """What would land on the host: CPU demand (host CPUs) and memory (MiB)."""

    cpu: float
    memory_mib: int


class Weigher(ABC):
    name: str = ""

    def __init__(self, multiplier: float = 1.0) -> None:
        self.multiplier = multiplier

    @abstractmethod
    def raw(self, ask: Ask, room: HostRoom) -> float:
        """Bigger is better, before the multiplier."""


def normalize(values: Sequence[float]) -> list[float]:
    if not values:
        return []
    lo, hi = min(values), max(values)
    if hi == lo:
        return [0.0] * len(values)
    return [(v - lo) / (hi - lo) for v in values]


def weigh(weighers: Sequence[Weigher], ask: Ask, rooms: Sequence[HostRoom]) -> list[float]:
    """One total weight per room, in the order given."""
    totals = [0.0] * len(rooms)
    for w in weighers:
        for i, n in enumerate(normalize([w.raw(ask, r) for r in rooms])):
            totals[i] += w.multiplier * n
    return totals


def best(weighers: Sequence[Weigher], ask: Ask, rooms: Sequence[HostRoom]) -> HostRoom:
    """The highest-weighted room; ties go to the earliest (callers sort by name for stability)."""
    totals = weigh(weighers, ask, rooms)
    return rooms[max(range(len(rooms)), key=lambda i: (totals[i], -i))]
