"""Where an engine's CPU goes between scrapes, and where a warm scrape's time goes (in process).

`python -m bench.engine_idle_profile --hosts 500 [--save NAME]`: the exporter benchmark's fleet
(HOSTS x 40 VMs, test driver served by its own libvirtd: bench/testdriver_daemon.py), the engine
run in this process (`run_engine`), measured once no VM's config is pending:
- per thread group (the event loop, the hosts' worker threads, libvirt's event thread, the
  exporter's), its CPU over `--idle` seconds without scrapes, from /proc/self/task;
- the CPU and wall time of each poll's parts: the host thread's `read_host`, the loop's host
  rebuild (`Fleet._rebuild`) and snapshot, counted per call (time.thread_time);
- a cProfile of the event loop's thread over the same window (top functions by own time);
- warm scrapes (curl, another process) with their phases timed inside the exporter: waiting for
  the loop to hand over the snapshot, for the hosts' statistics, writing the host blocks, the
  other families, gzip; and a cProfile of the scrape's own thread over the warm scrapes
  (`warm_scrape_profile_*`: cProfile sees one thread, so the loop's share is not in it, and the
  wall minus CPU of a phase is time spent waiting, mostly for the GIL).
The profile and the wrappers cost CPU of their own: read shares and per-call figures, not the
totals (bench/exporter_figures.py measures those, without them).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import io
import json
import os
import pstats
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.bytecode import loadavg
from bench.common import RESULTS
from bench.exporter_figures import VMS_PER_HOST, _fleet, _free_port
from bench.testdriver_daemon import TestDriverDaemon
from ovtui.config import load_config
from ovtui.engine.core import Engine
from ovtui.engine.run import run_engine

TICK = os.sysconf("SC_CLK_TCK")


# -- CPU per thread group -------------------------------------------------------------------------
def _group(name: str) -> str:
    if name == "MainThread":
        return "loop"
    for prefix, group in (("host-", "host workers"), ("libvirt-events", "libvirt events"),
                          ("exporter", "exporter"), ("asyncio_", "loop's default executor"),
                          ("sampler", "profile")):  # fmt: skip
        if name.startswith(prefix):
            return group
    if "process_request_thread" in name:
        return "scrape threads"
    return "other: " + name.split(" ")[0].rstrip("0123456789-_")


def _task_cpu() -> dict[int, float]:
    out = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(task.name)] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def cpu_by_group(before: dict[int, float], after: dict[int, float]) -> dict[str, float]:
    names = {t.native_id: t.name for t in threading.enumerate()}
    groups: dict[str, float] = {}
    for tid, cpu in after.items():
        group = _group(names.get(tid, "?"))
        groups[group] = groups.get(group, 0.0) + cpu - before.get(tid, 0.0)
    return {g: round(s, 2) for g, s in sorted(groups.items(), key=lambda kv: -kv[1])}


# -- per-call CPU ------------------------------------------------------------------------------
class Calls:
    def __init__(self) -> None:
        self.cpu: collections.defaultdict[str, float] = collections.defaultdict(float)
        self.wall: collections.defaultdict[str, float] = collections.defaultdict(float)
        self.count: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    def wrap(self, key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kw: Any) -> Any:
            c0, w0 = time.thread_time(), time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                c, w = time.thread_time() - c0, time.perf_counter() - w0
                with self.lock:
                    self.cpu[key] += c
                    self.wall[key] += w
                    self.count[key] += 1

        return timed

    def reset(self) -> None:
        with self.lock:
            self.cpu.clear()
            self.wall.clear()
            self.count.clear()

    def summary(self) -> dict[str, dict[str, float]]:
        with self.lock:
            return {
                k: {
                    "calls": n,
                    "cpu_ms_per_call": round(1000 * self.cpu[k] / n, 3),
                    "wall_ms_per_call": round(1000 * self.wall[k] / n, 3),
                    "cpu_s": round(self.cpu[k], 3),
                }
                for k, n in self.count.most_common()
            }


CALLS = Calls()
PHASES: list[dict[str, float]] = []
# One profiler per scrape thread's request (cProfile profiles the thread that enables it); the
# warm ones are merged into one report.
SCRAPE_PROFILES: list[cProfile.Profile] = []


def _instrument() -> None:
    """Wraps the poll's and the scrape's parts (before the engine is made)."""
    import collectors.exporter_server as es
    import collectors.fleet_collector as fc
    import collectors.gzip_text as gz
    import collectors.host_blocks as hb
    import ovtui.fleet.fleet as ff

    ff.read_host = CALLS.wrap("poll: read_host (host thread)", ff.read_host)
    # (a loop of setattr: mypy refuses assignments to methods, which is the point here)
    for name, fn in (
        ("_rebuild", CALLS.wrap("poll: Fleet._rebuild (loop)", ff.Fleet._rebuild)),
        ("refresh", _async_wrap("poll: Fleet.refresh (loop, incl. waits)", ff.Fleet.refresh)),
        ("snapshot", CALLS.wrap("Fleet.snapshot (loop)", ff.Fleet.snapshot)),
    ):
        setattr(ff.Fleet, name, fn)

    current: dict[str, float] = {}
    inputs, gather = es.Exporter._inputs, es.Exporter._gather
    collect, render = fc.FleetCollector.collect, hb.HostBlocks.render
    compress, parts = gz.GzipText.compress, es.render_parts

    def _inputs(self: Any, budget: float) -> Any:
        current.clear()
        current["asked"] = time.perf_counter()
        return inputs(self, budget)

    async def _gather(self: Any, budget: float, arrivals: Any) -> None:
        current["loop_began"] = time.perf_counter()
        await gather(self, budget, arrivals)
        current["loop_done"] = time.perf_counter()

    def _collect(self: Any) -> Any:
        current["collect_began"] = time.perf_counter()
        c0 = time.thread_time()
        out = collect(self)
        current["collect_cpu"] = time.thread_time() - c0
        current["collect_done"] = time.perf_counter()
        return out

    def _render(self: Any, hosts: Any, order: Any = ()) -> Any:
        c0, w0 = time.thread_time(), time.perf_counter()
        out = render(self, hosts, order)
        current["blocks_cpu"] = time.thread_time() - c0
        current["blocks_wall"] = time.perf_counter() - w0
        return out

    def _parts(registry: Any) -> Any:
        w0, c0 = time.perf_counter(), time.thread_time()
        out = parts(registry)
        current["render_parts_wall"] = time.perf_counter() - w0
        current["render_parts_cpu"] = time.thread_time() - c0
        return out

    def _compress(self: Any, p: Any) -> Any:
        w0, c0 = time.perf_counter(), time.thread_time()
        out = compress(self, p)
        current["gzip_wall"] = time.perf_counter() - w0
        current["gzip_cpu"] = time.thread_time() - c0
        asked = current.get("asked", w0)
        PHASES.append(
            {
                "loop_wait_ms": 1000 * (current.get("loop_began", asked) - asked),
                "loop_gather_ms": 1000
                * (current.get("loop_done", asked) - current.get("loop_began", asked)),
                "collect_wall_ms": 1000
                * (current.get("collect_done", asked) - current.get("collect_began", asked)),
                "collect_cpu_ms": 1000 * current.get("collect_cpu", 0.0),
                "blocks_wall_ms": 1000 * current.get("blocks_wall", 0.0),
                "blocks_cpu_ms": 1000 * current.get("blocks_cpu", 0.0),
                "render_parts_wall_ms": 1000 * current.get("render_parts_wall", 0.0),
                "render_parts_cpu_ms": 1000 * current.get("render_parts_cpu", 0.0),
                "gzip_wall_ms": 1000 * current["gzip_wall"],
                "gzip_cpu_ms": 1000 * current["gzip_cpu"],
                "total_in_app_ms": 1000 * (time.perf_counter() - asked),
            }
        )
        return out

    make_app = es.Exporter._app

    def _app(self: Any) -> Any:
        app = make_app(self)

        def profiled(environ: Any, start_response: Any) -> Any:
            prof = cProfile.Profile()
            prof.enable()
            try:
                return app(environ, start_response)
            finally:
                prof.disable()
                if environ.get("PATH_INFO") == "/metrics":
                    SCRAPE_PROFILES.append(prof)

        return profiled

    for cls, name, fn in (
        (es.Exporter, "_app", _app),
        (es.Exporter, "_inputs", _inputs),
        (es.Exporter, "_gather", _gather),
        (fc.FleetCollector, "collect", _collect),
        (hb.HostBlocks, "render", _render),
        (gz.GzipText, "compress", _compress),
    ):
        setattr(cls, name, fn)
    es.render_parts = _parts


def _async_wrap(key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    async def timed(*args: Any, **kw: Any) -> Any:
        w0 = time.perf_counter()
        try:
            return await fn(*args, **kw)
        finally:
            with CALLS.lock:
                CALLS.wall[key] += time.perf_counter() - w0
                CALLS.count[key] += 1

    return timed


def _curl(port: int) -> float:
    out = subprocess.run(
        ["curl", "-s", "--compressed", "-o", "/dev/null", "-w", "%{time_total}",
         "-H", "X-Prometheus-Scrape-Timeout-Seconds: 10", f"http://127.0.0.1:{port}/metrics"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout) * 1000


async def _measure(config_path: Path, port: int, idle: float, scrapes: int) -> dict[str, Any]:
    stop, ready = asyncio.Event(), asyncio.Event()
    engines: list[Engine] = []

    def on_ready(engine: Engine) -> None:
        engines.append(engine)
        ready.set()

    task = asyncio.create_task(run_engine(load_config(config_path), stop=stop, on_ready=on_ready))
    await ready.wait()
    fleet = engines[0].fleet
    began = time.perf_counter()
    await fleet.wait_connected(1800)
    row: dict[str, Any] = {"ready_s": round(time.perf_counter() - began, 1)}
    await asyncio.sleep(6)  # the fill's last rebuilds published
    row["threads"] = threading.active_count()
    CALLS.reset()
    before = _task_cpu()
    prof = cProfile.Profile()
    prof.enable()
    await asyncio.sleep(idle)
    prof.disable()
    after = _task_cpu()
    row["idle_s"] = idle
    row["idle_cpu_by_group_s"] = cpu_by_group(before, after)
    row["idle_cpu_%"] = round(100 * sum(row["idle_cpu_by_group_s"].values()) / idle, 1)
    row["idle_calls"] = CALLS.summary()
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(30)
    row["loop_profile_tottime"] = text.getvalue().splitlines()
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(40)
    row["loop_profile_cumulative"] = text.getvalue().splitlines()
    # Scrapes: one cold (statistics expired), then warm ones within the reuse window.
    warm: list[float] = []
    for i in range(scrapes):
        if i % 4 == 0:
            await asyncio.sleep(5.5)
        wall = await asyncio.to_thread(_curl, port)
        (warm if i % 4 else row.setdefault("cold_ms", [])).append(round(wall, 1))
    row["warm_ms"] = warm
    row["phases"] = [{k: round(v, 1) for k, v in p.items()} for p in PHASES]
    warm_profiles = [p for i, p in enumerate(SCRAPE_PROFILES) if i % 4]
    if warm_profiles:
        for key, order, n in (("tottime", "tottime", 30), ("cumulative", "cumulative", 40)):
            text = io.StringIO()
            stats = pstats.Stats(warm_profiles[0], stream=text)
            for p in warm_profiles[1:]:
                stats.add(p)
            stats.sort_stats(order).print_stats(n)
            row[f"warm_scrape_profile_{key}"] = text.getvalue().splitlines()
    stop.set()
    await task
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--scrapes", type=int, default=8)
    parser.add_argument("--save", help="write bench/results/NAME.json")
    args = parser.parse_args()
    _instrument()
    port = _free_port()
    config = _fleet(args.hosts, port)
    with TestDriverDaemon(config.parent) as daemon:
        daemon.serve(config)
        load = loadavg()
        row = asyncio.run(_measure(config, port, args.idle, args.scrapes))
    row = {"hosts": args.hosts, "vms": args.hosts * VMS_PER_HOST, "load": load, **row}
    row["load_end"] = loadavg()
    profiles = [k for k in row if "profile" in k]
    for key in profiles:
        print("\n".join(row[key]))
    print(json.dumps({k: v for k, v in row.items() if k not in profiles}, indent=1))
    if args.save:
        path = RESULTS / f"{args.save}.json"
        path.write_text(json.dumps({"notes": __doc__, "rows": [row]}, indent=2) + "\n")
        print(f"saved {path}")


if __name__ == "__main__":
    main()
