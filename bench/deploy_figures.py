"""Deployment figures: standby takeover after the active engine is SIGKILLed (median of 10),
and the store's write latency and throughput on PostgreSQL next to TinyDB.

    python -m bench.deploy_figures          (needs root: the server runs as user postgres)

The PostgreSQL server is the tests' own (tests/deploy/pg_server.py: initdb in a temp dir, on
127.0.0.1, fsync on); engines are real `ovtui engine` processes on the test-driver fleet.
Floors: what the README promises, checked here, never in tests (the machine is shared).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import print_table, save
from ovtui.engine.audit_open import open_audit_on
from ovtui.store.pg_database import PgDatabase
from ovtui.store.state import State, open_files, open_postgres
from tests.deploy.engines import EngineProcess, engine_config
from tests.deploy.pg_server import PgServer

TAKEOVERS = 10
WRITES = 300
POLL = 1.0  # engine.standby_poll_seconds, the default
FLOORS = {"takeover_median_s": 10.0, "pg_setting_p50_ms": 20.0, "pg_audit_p50_ms": 20.0}


def takeover_times(server: PgServer, root: Path) -> list[float]:
    dsn = server.new_database()
    active = EngineProcess(engine_config(root / "a", dsn, poll=POLL))
    active.wait_status("ok")
    standby = EngineProcess(engine_config(root / "b", dsn, poll=POLL))
    standby.wait_status("standby")
    times = []
    try:
        for round_no in range(TAKEOVERS):
            killed_at = time.monotonic()
            active.kill()
            standby.wait_status("ok", timeout=120)
            times.append(time.monotonic() - killed_at)
            print(f"  takeover {round_no + 1}: {times[-1]:.2f} s", flush=True)
            restarted = EngineProcess(active.config)
            restarted.wait_status("standby")
            active, standby = standby, restarted
    finally:
        for e in (active, standby):
            e.kill()
    return times


def _per_op(fn: Callable[[int], Any]) -> list[float]:
    samples = []
    for i in range(WRITES):
        began = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - began)
    return samples


def write_figures(state: State, backend: str) -> list[dict[str, Any]]:
    trail, _ = open_audit_on(state.audit, state.anchor, state.store)
    cases: dict[str, Callable[[int], Any]] = {
        "setting": lambda i: state.store.set_setting("bench", i),
        "host state": lambda i: state.store.set_host_state(f"h{i % 50}", since=i),
        "event append": lambda i: state.events.append({"kind": "bench", "i": i}),
        "audit record": lambda i: trail.record(actor="bench", action="bench", target=str(i)),
    }
    rows = []
    for name, fn in cases.items():
        samples = sorted(_per_op(fn))
        rows.append(
            {
                "backend": backend,
                "write": name,
                "p50_ms": round(statistics.median(samples) * 1000, 3),
                "p99_ms": round(samples[int(len(samples) * 0.99) - 1] * 1000, 3),
                "per_s": round(len(samples) / sum(samples)),
            }
        )
    return rows


def main() -> None:
    server = PgServer()
    try:
        with tempfile.TemporaryDirectory(prefix="ovtui-bench-") as tmp:
            files = open_files(Path(tmp) / "state")
            rows = write_figures(files, "tinydb (files, fsync)")
            files.close()
            db = PgDatabase(server.new_database(), holder="bench")
            assert db.try_lead()
            pg = open_postgres(db)
            rows += write_figures(pg, "postgresql (loopback)")
            pg.close()
            print_table(rows)
            print(f"takeover after SIGKILL, standby_poll_seconds = {POLL}:")
            times = takeover_times(server, Path(tmp))
    finally:
        server.stop()
    median = statistics.median(times)
    pg_p50 = {r["write"]: r["p50_ms"] for r in rows if r["backend"].startswith("postgresql")}
    summary = {
        "takeover_median_s": round(median, 2),
        "takeover_max_s": round(max(times), 2),
        "pg_setting_p50_ms": pg_p50["setting"],
        "pg_audit_p50_ms": pg_p50["audit record"],
    }
    rows.append({"backend": "summary", **summary, "floors": FLOORS})
    floor = FLOORS["takeover_median_s"]
    print(f"takeover: median {median:.2f} s, max {max(times):.2f} s (floor {floor} s)")
    over = [k for k, floor in FLOORS.items() if summary[k] > floor]
    path = save("deploy", rows, f"{WRITES} writes per case; {TAKEOVERS} takeovers; poll {POLL} s")
    print(f"saved {path}" + (f"; OVER THE FLOOR: {over}" if over else "; within the floors"))


if __name__ == "__main__":
    main()
