"""Two hot paths that once were timed inside the test suite (tests never assert on speed):

- render:    the exporter's own text rendering against prometheus_client's generate_latest on a
             big scrape (50 hosts, 4000 VMs, snapshot families only); floor: generate_latest,
             which render must beat (ratio < 1).
- synthetic: the demo's load model, per VM and refresh, over 20 000 VMs; floor: 5 µs per VM
             (20 000 VMs cost at most 0.1 s per refresh).

Best of REPEAT runs each, printed and saved in bench/results/micro.json.

    python -m bench.micro_figures
"""

from __future__ import annotations

import time

from prometheus_client import generate_latest

from bench.common import print_table, save, timed
from collectors.engine_metrics import EngineMetrics
from collectors.fleet_collector import FleetCollector, ScrapeInput
from collectors.synthetic_load import SyntheticLoad
from collectors.text_format import render
from ovtui.model import VM, Cluster, DataCenter, Host, HostState, Snapshot, VmState

REPEAT = 5
DAY0 = 1_700_006_400.0  # 2023-11-15 00:00 UTC
SYNTHETIC_FLOOR_US = 5.0


def _big_scrape() -> EngineMetrics:
    hosts = tuple(
        Host(f"h{i}", "c1", "dc1", f"qemu+ssh://h{i}/system", HostState.UP, cpus=16,
             memory_mib=65536, cpu_usage=0.5, last_seen=time.time())
        for i in range(50)
    )  # fmt: skip
    vms = tuple(
        VM(f"uuid-v{i}", f"v{i}", f"h{i % 50}", "c1", "dc1", VmState.RUNNING, 4, 8192, 0.25)
        for i in range(4000)
    )
    snap = Snapshot(
        taken_at=time.time(),
        datacenters=(DataCenter("dc1"),),
        clusters=(Cluster("c1", "dc1", "Skylake-Server"),),
        hosts=hosts,
        vms=vms,
    )
    metrics = EngineMetrics()
    inputs = ScrapeInput(snap, {})
    metrics.registry.register(FleetCollector(lambda _b: inputs))
    return metrics


def main() -> None:
    registry = _big_scrape().registry
    mine = min(timed(lambda: render(registry), REPEAT))
    theirs = min(timed(lambda: generate_latest(registry), REPEAT))
    load = SyntheticLoad()
    names = [f"vm-{i:05d}" for i in range(20000)]
    for name in names:
        load.vm_cpu(name, "web", DAY0)
    attempt = iter(range(REPEAT))

    def refresh() -> None:
        t = DAY0 + next(attempt)
        for name in names:
            load.vm_cpu(name, "web", t)

    per_vm_us = min(timed(refresh, REPEAT)) / len(names) * 1e6
    rows = [
        {
            "figure": "render vs generate_latest (50 hosts, 4000 VMs)",
            "ms": round(mine * 1000, 1),
            "floor_ms": round(theirs * 1000, 1),
            "ratio": round(mine / theirs, 2),
            "ok": mine < theirs,
        },
        {
            "figure": "synthetic load per VM and refresh (20 000 VMs), µs",
            "ms": round(per_vm_us * len(names) / 1000, 1),
            "floor_ms": round(SYNTHETIC_FLOOR_US * len(names) / 1000, 1),
            "ratio": round(per_vm_us / SYNTHETIC_FLOOR_US, 2),
            "ok": per_vm_us < SYNTHETIC_FLOOR_US,
        },
    ]
    print_table(rows)
    print(save("micro", rows, __doc__ or ""))


if __name__ == "__main__":
    main()
