"""Issue 15 figures on real libvirtd: what a poll and a scrape cost libvirtd, per way of asking.

On a lab (3 hosts, 9 QEMU guests; root), for each way a poll can get what it needs and for the
exporter's statistics read, side by side in one run: round trips to libvirtd per host, wall time
per host, and libvirtd CPU per host (the daemon's /proc CPU over `repeat` rounds, divided out).
- old poll:       listAllDomains + dom.info() + isPersistent() per VM (1 + 2 N round trips)
- poll (measured): getAllDomainStats(STATE | CPU_TOTAL) + listAllDomains(TRANSIENT) (2)
- poll (synthetic): getAllDomainStats(STATE) + listAllDomains(TRANSIENT) (2)
- scrape:         collectors.bulk_stats.read_host_stats (getAllDomainStats of every exported
                  group with NOWAIT, plus the node counters)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import libvirt

from bench.common import print_table, save
from bench.testdriver_daemon import cpu_s
from collectors.bulk_stats import read_host_stats
from ovtui.lab import Lab
from ovtui.lab.conn import quiet_libvirt

STATE, CPU = libvirt.VIR_DOMAIN_STATS_STATE, libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
TRANSIENT = libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT


def _old(conn: libvirt.virConnect) -> int:
    doms = conn.listAllDomains()
    for d in doms:
        d.info()
        d.isPersistent()
    return 1 + 2 * len(doms)


def _bulk(groups: int) -> Callable[[libvirt.virConnect], int]:
    def poll(conn: libvirt.virConnect) -> int:
        conn.getAllDomainStats(groups, 0)
        conn.listAllDomains(TRANSIENT)
        return 2

    return poll


def _scrape(conn: libvirt.virConnect) -> int:
    stats = read_host_stats(conn, driver=conn.getType())
    return 1 + 3 - len(stats.unsupported)  # bulk + node CPU, memory, KSM where supported (+type)


WAYS: dict[str, Callable[[libvirt.virConnect], int]] = {
    "old poll (info + isPersistent per VM)": _old,
    "poll, measured load (STATE|CPU_TOTAL)": _bulk(STATE | CPU),
    "poll, synthetic load (STATE)": _bulk(STATE),
    "scrape (exporter's bulk read)": _scrape,
}


def run(repeat: int, hosts: int = 3, guests: int = 9) -> list[dict[str, Any]]:
    quiet_libvirt()
    lab = Lab(root=Path(tempfile.mkdtemp(prefix="ovtui-lab-", dir="/tmp")))
    try:
        lab.up(hosts=hosts, guests=guests)
        conns = {h: libvirt.open(u) for h, u in lab.uris().items()}
        pids = {h: lab.daemon_pid(h) for h in conns}
        vms = sum(len(c.listAllDomains()) for c in conns.values())
        rows = []
        for what, way in WAYS.items():
            for c in conns.values():
                way(c)  # warm up (first calls open QMP paths, caches)
            walls, trips = [], 0
            cpu_before = sum(cpu_s(p) for p in pids.values() if p)
            for _ in range(repeat):
                for c in conns.values():
                    began = time.perf_counter()
                    trips = way(c)
                    walls.append(time.perf_counter() - began)
            cpu = sum(cpu_s(p) for p in pids.values() if p) - cpu_before
            rows.append(
                {
                    "way": what,
                    "hosts": hosts,
                    "vms": vms,
                    "round_trips_per_host": trips,
                    "wall_ms_per_host": round(statistics.median(walls) * 1000, 2),
                    "libvirtd_cpu_ms_per_host": round(cpu * 1000 / (repeat * len(conns)), 2),
                }
            )
        for c in conns.values():
            c.close()
        print_table(rows)
        return rows
    finally:
        lab.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    rows = run(parser.parse_args().repeat)
    print(f"\nsaved {save('poll_lab', rows, __doc__ or '')}")


if __name__ == "__main__":
    main()
