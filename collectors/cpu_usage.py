"""CPU utilisation from two readings of a cumulative CPU-time counter."""

from __future__ import annotations


def cpu_fraction(prev_ns: int, cur_ns: int, elapsed_s: float, cpus: int) -> float | None:
    """Share of `cpus` CPUs busy between two samples, 0..1; None when it cannot be known."""
    if elapsed_s <= 0 or cpus <= 0 or cur_ns < prev_ns or prev_ns < 0:
        return None  # no interval yet, the counter reset (guest restarted) or was not read
    return min(1.0, (cur_ns - prev_ns) / 1e9 / elapsed_s / cpus)
