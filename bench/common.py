"""Shared bits for benchmarks: timing, medians, saving results with the machine they ran on."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        out.append(time.perf_counter() - began)
    return out


def med_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def rss_mib(pid: int | None = None) -> float:
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    return round(kib / 1024, 1)


def save(name: str, rows: list[dict[str, Any]], notes: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "notes": notes,
        "rows": rows,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def print_table(rows: list[dict[str, Any]]) -> None:
    heads = list(dict.fromkeys(h for r in rows for h in r))  # rows may differ in columns
    widths = [max(len(h), *(len(str(r.get(h, ""))) for r in rows)) for h in heads]
    print("  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True)))
    for r in rows:
        print("  ".join(str(r.get(h, "")).rjust(w) for h, w in zip(heads, widths, strict=True)))


def sized_main(
    name: str,
    doc: str | None,
    run: Callable[..., list[dict[str, Any]]],
    sizes: tuple[int, ...],
    repeat: int,
    *,
    drivers: bool = False,
) -> None:
    """The command line of a per-fleet-size benchmark: --sizes, --repeat (and --driver where
    the test driver can be served by its own daemon); print and save."""
    import argparse

    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--sizes", default=",".join(map(str, sizes)))
    parser.add_argument("--repeat", type=int, default=repeat)
    if drivers:
        parser.add_argument("--driver", choices=("daemon", "inprocess"), default="daemon")
    args = parser.parse_args()
    extra = {"driver": args.driver} if drivers else {}
    rows = run(tuple(int(s) for s in args.sizes.split(",")), args.repeat, **extra)
    print()
    print_table(rows)
    print(f"\nsaved {save(name, rows, doc or '')}")
