"""Garbage-collector settings for the long-running engine.

The engine holds a large, long-lived heap (every host's last two readings, the snapshot) and
allocates many small objects per poll. With CPython's default thresholds a full collection
walks that whole heap every few polls: at 500 hosts x 40 VMs a snapshot build then takes
~50 ms (150 ms at worst) instead of ~17 ms. Rarer collections keep pauses out of API answers;
the engine makes few reference cycles, so memory is not held much longer (bench/core_figures.py).
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 20)


def tune_gc() -> None:
    gc.set_threshold(*THRESHOLDS)
