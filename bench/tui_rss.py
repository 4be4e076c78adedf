"""RSS of idle dashboards over a long time, one dashboard per screen, against one engine.

Four `ovtui dashboard` processes run side by side in 200x50 tmux windows (bench/tui_tmux.py)
against one test-driver engine (1 000 VMs by default: 25 hosts x 40, synthetic load): one stays
on the overview, one on Hosts, one on VMs, one on Events. Nothing is pressed after the tab key;
the dashboards poll every 2 s. RSS is sampled every SAMPLE s for DURATION s. Per screen:
RSS at the start (after WARMUP s on the tab) and at the end, min and max over the run, the
spread (max - min) and the slope of a least-squares line in MiB per 10 minutes. The goal is
flat within +-5 MiB over 30 minutes.

    python -m bench.tui_rss [--vms 1000] [--duration 1800] [--sample 15] [--warmup 60]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import print_table, save
from bench.tui_figures import SHAPES, SIZE, TABS, _engine_ready, _fleet, _server
from bench.tui_tmux import Tmux, cpu_seconds, rss_mib
from ovtui.demo import start_engine, stop_engine


def _slope_per_10min(times: list[float], values: list[float]) -> float:
    if len(times) < 2:
        return 0.0
    return statistics.linear_regression(times, values).slope * 600


def run(vms: int, duration: float, sample: float, warmup: float) -> list[dict[str, Any]]:
    import sys

    hosts, per_host = SHAPES[vms]
    config = _fleet(hosts, per_host)
    root = config.parent
    log = root / "engine.log"
    engine = start_engine(config, log)
    screens: dict[str, Tmux] = {}
    try:
        fleet = _engine_ready(root / "api.sock", engine, log, hosts)
        ovtui = str(Path(sys.executable).with_name("ovtui"))
        argv = [ovtui, "--socket", str(root / "api.sock"), "dashboard"]
        for tab, (key, mark) in TABS.items():
            t = Tmux(argv, {"OVTUI_TOKEN": fleet.token}, SIZE, _server())
            screens[tab] = t
            t.wait(lambda s: f"{len(fleet.vms)} VMs" in s, 120, t.began)
            t.press(key, lambda s, m=mark: m in s)  # type: ignore[misc]
        time.sleep(warmup)
        began = time.perf_counter()
        cpu0 = {tab: cpu_seconds(t.pid) for tab, t in screens.items()}
        samples: dict[str, list[tuple[float, float]]] = {tab: [] for tab in screens}
        loads = []
        while True:
            now = time.perf_counter() - began
            for tab, t in screens.items():
                samples[tab].append((round(now, 1), round(rss_mib(t.pid), 2)))
            loads.append(Path("/proc/loadavg").read_text().split()[0])
            if now >= duration:
                break
            time.sleep(min(sample, duration - now))
        rows = []
        for tab, t in screens.items():
            times = [s[0] for s in samples[tab]]
            rss = [s[1] for s in samples[tab]]
            rows.append({
                "screen": tab, "vms": len(fleet.vms), "minutes": round(times[-1] / 60, 1),
                "rss_start_mib": rss[0], "rss_end_mib": rss[-1],
                "rss_min_mib": min(rss), "rss_max_mib": max(rss),
                "spread_mib": round(max(rss) - min(rss), 2),
                "slope_mib_per_10min": round(_slope_per_10min(times, rss), 2),
                "cpu_pct": round((cpu_seconds(t.pid) - cpu0[tab]) / times[-1] * 100, 2),
                "loadavg_1min": f"{min(loads)}-{max(loads)}",
                "samples": samples[tab],
            })  # fmt: skip
        return rows
    finally:
        for t in screens.values():
            t.stop()
        stop_engine(engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vms", type=int, default=1000, choices=sorted(SHAPES))
    parser.add_argument("--duration", type=float, default=1800.0, help="seconds watched")
    parser.add_argument("--sample", type=float, default=15.0, help="seconds between samples")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before the first")
    parser.add_argument("--save", default="tui_rss_30min", help="bench/results/NAME.json")
    args = parser.parse_args()
    rows = run(args.vms, args.duration, args.sample, args.warmup)
    print_table([{k: v for k, v in r.items() if k != "samples"} for r in rows])
    print(f"\nsaved {save(args.save, rows, __doc__ or '')}")


if __name__ == "__main__":
    main()
