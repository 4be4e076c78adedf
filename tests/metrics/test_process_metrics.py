"""FastProcessCollector reports what prometheus_client's ProcessCollector does."""

from __future__ import annotations

import os

from prometheus_client import ProcessCollector

from collectors import process_metrics
from collectors.process_metrics import FastProcessCollector

STEADY = {"process_open_fds", "process_max_fds", "process_start_time_seconds"}


def _families(collector: ProcessCollector) -> dict[str, tuple[str, str, list[float]]]:
    return {
        f.name: (f.type, f.documentation, [s.value for s in f.samples]) for f in collector.collect()
    }


def test_same_families_and_fd_count_as_process_collector() -> None:
    extra = [os.open(os.devnull, os.O_RDONLY) for _ in range(5)]  # a count that is not 0
    try:
        ours = _families(FastProcessCollector(registry=None))
        theirs = _families(ProcessCollector(registry=None))
    finally:
        for fd in extra:
            os.close(fd)
    assert ours.keys() == theirs.keys()
    assert {n: f[:2] for n, f in ours.items()} == {n: f[:2] for n, f in theirs.items()}
    assert {n: f for n, f in ours.items() if n in STEADY} == {
        n: f for n, f in theirs.items() if n in STEADY
    }


def test_falls_back_to_the_listing_where_stat_gives_no_count(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(process_metrics, "fd_count", lambda _dir: 0)  # as before Linux 6.2
    ours = _families(FastProcessCollector(registry=None))
    theirs = _families(ProcessCollector(registry=None))
    assert ours["process_open_fds"] == theirs["process_open_fds"]
