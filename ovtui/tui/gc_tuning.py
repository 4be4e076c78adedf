"""Garbage-collector settings for the dashboard, as the engine has them (ovtui/engine/gc_tuning.py).

At 20 000 VMs the dashboard holds a few hundred thousand long-lived objects (rows, cells) and
each read of the VM list allocates ~100 000 more; with CPython's default thresholds that burst
set off full collections that walked the whole heap, most of such a poll's CPU time (a profile
charged it to creating the table's cells). With rarer automatic collections, garbage in
reference cycles (Textual's messages and widgets make some) would wait long for one, and RSS
grew ~16 MiB a minute; so a full collection is also run after a poll once COLLECT_EVERY s have
passed: one pause at a quiet moment, a bounded share of a core. After it, glibc is asked to
give freed heap pages back (malloc_trim): each VM read frees a few MB of short-lived rows among
long-lived ones, and without it the freed pages stayed in the process's RSS.

What exists once the first poll is shown (modules, Textual's app, screens and widgets: most of
the heap at 1 000 VMs) lives as long as the dashboard: it is frozen (gc.freeze) after one
collection, so the periodic collection walks only what came later instead of the whole heap
every 30 s. Garbage made later is collected as before; objects freed by their reference count
(rows replaced by a new reading) are freed whether frozen or not.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import time
from collections.abc import Callable

THRESHOLDS = (50_000, 20, 20)
COLLECT_EVERY = 30.0  # seconds


def tune_gc() -> None:
    gc.set_threshold(*THRESHOLDS)


def _malloc_trim() -> Callable[[], object] | None:
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc: nothing to ask
        return None
    return None if trim is None else lambda: trim(0)


_TRIM = _malloc_trim()


class Collector:
    def __init__(self, every: float = COLLECT_EVERY) -> None:
        self.every = every
        self._last = time.monotonic()
        self.runs = 0
        self.frozen = False

    def after_poll(self) -> None:
        if not self.frozen:  # the first poll: start-up's objects stay; later ones are walked
            gc.collect()
            gc.freeze()
            self.frozen = True
        now = time.monotonic()
        if now - self._last >= self.every:
            gc.collect()
            if _TRIM is not None:
                _TRIM()
            self._last = time.monotonic()
            self.runs += 1
