"""Issue 3 figures: a real lab of libvirtd hosts and QEMU (TCG) guests on this machine.

- up:          `Lab.up(hosts=3, guests=9)` from nothing (packages installed, guest image cached)
               until every guest has booted (its first uptime line on the serial console);
               hosts_ready_s is when the last libvirtd answered
- idle/loaded: live migration of one guest, idle or running one busy loop (one vCPU busy), by
               the engine's own live migration (ovtui.fleet.migration_ops.live: managed direct
               migrate3 LIVE|PERSIST_DEST|UNDEFINE_SOURCE|ABORT_ON_ERROR to the target's
               migration URI and listen address); wall = that call, job_ms, downtime_ms and mib
               (data transferred) = the figures it reports, from the completed job's statistics
               (the same numbers the engine's API, migration history and exporter carry)
- concurrent:  5 guests migrating at once to their next host; wall = first start to last end of
               a batch (median of the batches), job/downtime/mib over every migration in them
All hosts share this machine's 2 cores, so every figure includes the other guests' load.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import libvirt

from bench.common import print_table, save
from ovtui.fleet import migration_ops
from ovtui.lab import Lab
from ovtui.lab.conn import quiet_libvirt


class Cluster:
    """One connection per lab host, and migration by guest name."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.uris = lab.migration_uris()
        self.conns = {h: libvirt.open(uri) for h, uri in lab.uris().items()}

    def where(self, guest: str) -> str:
        for host, c in self.conns.items():
            try:
                if c.lookupByName(guest).isActive():
                    return host
            except libvirt.libvirtError:
                continue
        raise LookupError(guest)

    def next_host(self, host: str) -> str:
        names = sorted(self.conns)
        return names[(names.index(host) + 1) % len(names)]

    def migrate(self, guest: str) -> dict[str, float]:
        src = self.where(guest)
        dst = self.next_host(src)
        uuid = self.conns[src].lookupByName(guest).UUIDString()
        move = migration_ops.live(uuid, self.conns[dst], self.uris[dst])
        t0 = time.perf_counter()
        figures = move(self.conns[src])
        wall = time.perf_counter() - t0
        return {
            "wall_s": wall,
            "job_ms": float(figures.get("job_ms", 0)),
            "downtime_ms": float(figures.get("downtime_ms", 0)),
            "mib": float(figures.get("transferred_mib", 0)),
        }

    def close(self) -> None:
        for c in self.conns.values():
            c.close()


def _row(what: str, samples: list[dict[str, float]], wall: float | None = None) -> dict[str, Any]:
    def med(key: str) -> float:
        return statistics.median(s[key] for s in samples)

    return {
        "what": what,
        "n": len(samples),
        "wall_s": round(wall if wall is not None else med("wall_s"), 2),
        "wall_max_s": round(max(s["wall_s"] for s in samples), 2),
        "job_ms": round(med("job_ms")),
        "downtime_ms": round(med("downtime_ms")),
        "downtime_max_ms": round(max(s["downtime_ms"] for s in samples)),
        "mib": round(med("mib"), 1),
    }


def run(repeat: int = 3, hosts: int = 3, guests: int = 9) -> list[dict[str, Any]]:
    quiet_libvirt()
    marks: dict[str, float] = {}
    t0 = time.perf_counter()

    def say(msg: str) -> None:
        if msg.startswith("host "):
            marks["hosts_ready_s"] = time.perf_counter() - t0

    lab = Lab(root=Path(tempfile.mkdtemp(prefix="ovtui-lab-", dir="/tmp")), say=say)
    rows: list[dict[str, Any]] = []
    try:
        t0 = time.perf_counter()
        lab.up(hosts=hosts, guests=guests)
        up = time.perf_counter() - t0
        rows.append(
            {
                "what": f"up {hosts} hosts x {guests} guests (hosts ready "
                f"{marks.get('hosts_ready_s', 0):.2f} s)",
                "n": 1,
                "wall_s": round(up, 2),
                "wall_max_s": round(up, 2),
                "job_ms": "-",
                "downtime_ms": "-",
                "downtime_max_ms": "-",
                "mib": "-",
            }
        )
        print_table(rows[-1:])
        cluster = Cluster(lab)
        try:
            rows.append(_row("migrate idle guest", _repeat(lambda: cluster.migrate("vm1"), repeat)))
            print_table(rows[-1:])
            lab.set_load("vm2", 1)
            time.sleep(1.0)
            rows.append(
                _row(
                    "migrate loaded guest (1 busy loop)",
                    _repeat(lambda: cluster.migrate("vm2"), repeat),
                )
            )
            lab.set_load("vm2", 0)
            print_table(rows[-1:])
            batch = [f"vm{i}" for i in range(3, 8)]
            samples, walls = [], []
            for _ in range(repeat):
                t1 = time.perf_counter()
                with ThreadPoolExecutor(max_workers=len(batch)) as pool:
                    samples += list(pool.map(cluster.migrate, batch))
                walls.append(time.perf_counter() - t1)
            row = _row(f"{len(batch)} concurrent migrations (per batch)", samples)
            row.update(wall_s=round(statistics.median(walls), 2), wall_max_s=round(max(walls), 2))
            rows.append(row)
            print_table(rows[-1:])
        finally:
            cluster.close()
    finally:
        lab.down()
    return rows


def _repeat(fn: Callable[[], dict[str, float]], n: int) -> list[dict[str, float]]:
    return [fn() for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = run(args.repeat)
    print()
    print_table(rows)
    path = save("lab", rows, __doc__ or "")
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
