"""Garbage-collector settings for the dashboard, as the engine has them (ovtui/engine/gc_tuning.py).

At 20 000 VMs the dashboard holds a few hundred thousand long-lived objects (rows, cells) and
each read of the VM list allocates ~100 000 more; with CPython's default thresholds that burst
set off full collections that walked the whole heap, most of such a poll's CPU time (a profile
charged it to creating the table's cells). The dashboard makes few reference cycles.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 20)


def tune_gc() -> None:
    gc.set_threshold(*THRESHOLDS)
