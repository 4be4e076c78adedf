"""A short, immutable history of host CPU utilisation, and what else a planner observes.

The engine samples every host's CPU now and then and keeps the newest LoadHistory; planners
only read it: "has kvm-a04 been above 80% for at least 2 minutes?" needs more than one snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

Sample = tuple[float, float]  # (unix time, CPU utilisation 0..1)

_EMPTY: Mapping[str, tuple[Sample, ...]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class LoadHistory:
    """Per-host (time, cpu) samples, oldest first, none older than `retain_seconds`."""

    samples: Mapping[str, tuple[Sample, ...]] = field(default_factory=lambda: _EMPTY)
    retain_seconds: float = 900.0

    def add(self, t: float, loads: Mapping[str, float | None]) -> LoadHistory:
        """A new history with one sample per host whose load is known (None is skipped)."""
        cutoff = t - self.retain_seconds
        out: dict[str, tuple[Sample, ...]] = {}
        for host, old in self.samples.items():
            if old and old[0][0] < cutoff:
                old = tuple(x for x in old if x[0] >= cutoff)
            kept = old
            if kept:
                out[host] = kept
        for host, cpu in loads.items():
            if cpu is not None:
                out[host] = (*out.get(host, ()), (t, cpu))
        return LoadHistory(MappingProxyType(out), self.retain_seconds)

    def of(self, host: str) -> tuple[Sample, ...]:
        return self.samples.get(host, ())

    def above_for(self, host: str, threshold: float) -> float:
        """Seconds the host has been continuously above `threshold`, up to its newest sample.

        0 when the newest sample is not above it (or there is none). Measured between samples,
        so it never overstates: one sample above counts as 0 s.
        """
        series = self.of(host)
        if not series or series[-1][1] <= threshold:
            return 0.0
        first = series[-1][0]
        for t, cpu in reversed(series):
            if cpu <= threshold:
                break
            first = t
        return series[-1][0] - first


@dataclass(frozen=True, slots=True)
class Observations:
    """Everything a planner knows besides the snapshot and the parameters.

    parked: hosts that power saving released (in maintenance or powered off) -> when.
    last_power_action: host -> unix time of its last release, power off, power on or return.
    """

    now: float
    history: LoadHistory = field(default_factory=LoadHistory)
    parked: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    last_power_action: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
