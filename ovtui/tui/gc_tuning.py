"""Garbage-collector settings for the dashboard, as the engine has them (ovtui/engine/gc_tuning.py).

At 20 000 VMs the dashboard holds a few hundred thousand long-lived objects (rows, cells) and
each read of the VM list allocates ~100 000 more; with CPython's default thresholds that burst
set off full collections that walked the whole heap, most of such a poll's CPU time (a profile
charged it to creating the table's cells). With rarer automatic collections, garbage in
reference cycles (Textual's messages and widgets make some) would wait long for one, and RSS
grew ~16 MiB a minute; so a full collection is also run after a poll once COLLECT_EVERY s have
passed: one pause at a quiet moment, a bounded share of a core.
"""

from __future__ import annotations

import gc
import time

THRESHOLDS = (50_000, 20, 20)
COLLECT_EVERY = 30.0  # seconds


def tune_gc() -> None:
    gc.set_threshold(*THRESHOLDS)


class Collector:
    def __init__(self, every: float = COLLECT_EVERY) -> None:
        self.every = every
        self._last = time.monotonic()
        self.runs = 0

    def after_poll(self) -> None:
        now = time.monotonic()
        if now - self._last >= self.every:
            gc.collect()
            self._last = time.monotonic()
            self.runs += 1
