"""Where an engine's start-up goes: the event loop's stack sampled during one in-process start.

`python -m bench.startup_profile --hosts 500 [--save NAME]`: a test-driver fleet of HOSTS x 40
VMs served by its own libvirtd (bench/testdriver_daemon.py), the engine run in this process
(`run_engine`, API and all), and a thread that takes the loop thread's stack every 5 ms
(`sys._current_frames`) until no VM's config is pending. Prints the start-up's figures and the
share of samples each function is on the stack for; a function that waits for the GIL shows up
as the frame that let it go. The sampler itself takes the GIL 200 times a second: read shares,
not the figures (bench/core_figures.py measures those, without it).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from bench.bytecode import loadavg
from bench.common import RESULTS
from bench.core_figures import _fleet
from bench.testdriver_daemon import TestDriverDaemon
from ovtui.config import load_config
from ovtui.engine.core import Engine
from ovtui.engine.run import run_engine

EVERY = 0.005


class LoopSampler:
    def __init__(self, thread_id: int) -> None:
        self.thread_id = thread_id
        self.on_stack: collections.Counter[str] = collections.Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LoopSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(EVERY):
            frame = sys._current_frames().get(self.thread_id)
            if frame is None:
                continue
            self.samples += 1
            names = {f"{Path(s.filename).name}:{s.name}" for s in traceback.extract_stack(frame)}
            self.on_stack.update(names)

    def shares(self, top: int) -> list[tuple[float, str]]:
        n = max(self.samples, 1)
        return [(round(100 * c / n, 1), name) for name, c in self.on_stack.most_common(top)]


async def _start(config_path: Path, daemon: TestDriverDaemon) -> dict[str, Any]:
    stop, ready = asyncio.Event(), asyncio.Event()
    engines: list[Engine] = []

    def on_ready(engine: Engine) -> None:
        engines.append(engine)
        ready.set()

    began, cpu0, daemon0 = time.perf_counter(), time.process_time(), daemon.cpu_s()
    task = asyncio.create_task(run_engine(load_config(config_path), stop=stop, on_ready=on_ready))
    await ready.wait()
    api = time.perf_counter() - began
    fleet = engines[0].fleet
    await fleet.wait_first_view(900)
    first = time.perf_counter() - began
    await fleet.wait_connected(1800)
    row = {
        "api_s": round(api, 2),
        "first_view_s": round(first, 2),
        "complete_s": round(time.perf_counter() - began, 2),
        "engine_cpu_s": round(time.process_time() - cpu0, 2),
        "daemon_cpu_s": round(daemon.cpu_s() - daemon0, 2),
    }
    stop.set()
    await task
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--save", help="write bench/results/NAME.json")
    args = parser.parse_args()
    config = _fleet(args.hosts)
    with TestDriverDaemon(config.parent) as daemon:
        daemon.serve(config)
        daemons, load = len(daemon.pids), loadavg()
        with LoopSampler(threading.get_ident()) as sampler:
            row = asyncio.run(_start(config, daemon))
    row = {"hosts": args.hosts, "daemons": daemons, "load": load, **row}
    row["load_end"] = loadavg()
    row["loop_samples"] = sampler.samples
    row["on_stack_%"] = sampler.shares(args.top)
    print(json.dumps({k: v for k, v in row.items() if k != "on_stack_%"}))
    for share, name in row["on_stack_%"]:
        print(f"{share:5.1f}%  {name}")
    if args.save:
        path = RESULTS / f"{args.save}.json"
        path.write_text(json.dumps({"notes": __doc__, "rows": [row]}, indent=2) + "\n")
        print(f"saved {path}")


if __name__ == "__main__":
    main()
