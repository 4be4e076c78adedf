"""Where an idle dashboard's CPU goes: cProfile over SECONDS of idle on one tab, in tmux.

`python -m bench.tui_idle_profile --vms 1000 --tab overview [--seconds 20] [--top 40]`: the
fleet and engine of bench/tui_figures.py, the real dashboard in the same 200x50 tmux, run by
this module as a child (`--child`) that starts cProfile on SIGUSR1 and writes the stats on
SIGUSR2. The parent waits for the first frame, presses the tab's key, lets a poll land, then
profiles SECONDS with no key pressed and prints the functions by own and cumulative time.
cProfile slows what it traces (several times over): read shares and call counts, not the
figures (bench/tui_figures.py measures those, without it).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench.tui_figures import SHAPES, SIZE, TABS, _engine_ready, _fleet, _server
from bench.tui_tmux import Tmux, cpu_seconds


def _child(socket: str, out: str) -> None:
    from ovtui.tui.app import run_dashboard

    profile = cProfile.Profile()
    signal.signal(signal.SIGUSR1, lambda *_: profile.enable())

    def stop(*_: object) -> None:
        profile.disable()
        profile.dump_stats(out)

    signal.signal(signal.SIGUSR2, stop)
    run_dashboard(Path(socket), os.environ["OVTUI_TOKEN"])


def run(vms: int, tab: str, seconds: float, top: int) -> None:
    from ovtui.demo import start_engine, stop_engine

    hosts, per_host = SHAPES[vms]
    config = _fleet(hosts, per_host)
    root = config.parent
    engine = start_engine(config, root / "engine.log")
    out = Path(tempfile.mkdtemp(prefix="ovprof-")) / "idle.prof"
    try:
        socket = root / "api.sock"
        fleet = _engine_ready(socket, engine, root / "engine.log", hosts)
        argv = [sys.executable, "-m", "bench.tui_idle_profile", "--child", str(socket), str(out)]
        env = {"OVTUI_TOKEN": fleet.token, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
        t = Tmux(argv, env, SIZE, _server())
        try:
            t.wait(lambda s: f"{len(fleet.vms)} VMs" in s, 120, t.began)
            key, mark = TABS[tab]
            t.press(key, lambda s: mark in s)
            time.sleep(2.5)
            cpu0 = cpu_seconds(t.pid)
            os.kill(t.pid, signal.SIGUSR1)
            time.sleep(seconds)
            os.kill(t.pid, signal.SIGUSR2)
            cpu = (cpu_seconds(t.pid) - cpu0) / seconds * 100
            for _ in range(100):
                if out.exists() and out.stat().st_size:
                    break
                time.sleep(0.1)
            time.sleep(0.5)
        finally:
            t.stop()
    finally:
        stop_engine(engine)
    print(f"{vms} VMs, {tab}: {cpu:.1f}% of a core while profiled ({seconds:g} s)")
    stats = pstats.Stats(str(out))
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumtime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vms", type=int, default=1000, choices=sorted(SHAPES))
    parser.add_argument("--tab", default="overview", choices=sorted(TABS))
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--child", nargs=2, metavar=("SOCKET", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    run(args.vms, args.tab, args.seconds, args.top)


if __name__ == "__main__":
    main()
