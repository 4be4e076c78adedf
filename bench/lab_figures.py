"""Issue 3 figures: a real lab of libvirtd hosts and QEMU (TCG) guests on this machine.

- up:          `Lab.up(hosts=3, guests=9)` from nothing (packages installed, guest image cached)
               until every guest has booted (its first uptime line on the serial console);
               hosts_ready_s is when the last libvirtd answered
- idle/loaded: live migration of one guest, idle or running one busy loop (one vCPU busy),
               managed direct migration (migrate3 LIVE|PERSIST_DEST|UNDEFINE_SOURCE) to the
               target's migration URI; wall = the migrate3 call, job_ms and downtime_ms from the
               source's JOB_COMPLETED event, mib = data transferred
- concurrent:  5 guests migrating at once to their next host; wall = first start to last end of
               a batch (median of the batches), job/downtime/mib over every migration in them
All hosts share this machine's 2 cores, so every figure includes the other guests' load.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import libvirt

from bench.common import print_table, save
from ovtui.lab import Lab
from ovtui.lab.conn import quiet_libvirt

FLAGS = libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PERSIST_DEST
FLAGS |= libvirt.VIR_MIGRATE_UNDEFINE_SOURCE


class JobEvents:
    """JOB_COMPLETED events of every lab host, by guest name (the source host sends them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[str, list[dict[str, Any]]] = {}
        self._cond = threading.Condition(self._lock)

    def callback(self, _conn: Any, dom: Any, params: dict[str, Any], _opaque: Any) -> None:
        with self._cond:
            self._done.setdefault(dom.name(), []).append(params)
            self._cond.notify_all()

    def count(self, name: str) -> int:
        with self._lock:
            return len(self._done.get(name, []))

    def wait(self, name: str, after: int, timeout: float = 30.0) -> dict[str, Any]:
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self._done.get(name, [])) > after, timeout)
            if not ok:
                raise TimeoutError(f"no JOB_COMPLETED event for {name}")
            return self._done[name][after]


def _start_event_loop() -> None:
    libvirt.virEventRegisterDefaultImpl()

    def run() -> None:
        while True:
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=run, name="libvirt-events", daemon=True).start()


class Cluster:
    """One connection per lab host, with job events, and migration by guest name."""

    def __init__(self, lab: Lab, events: JobEvents) -> None:
        self.lab = lab
        self.uris = lab.migration_uris()
        self.conns = {h: libvirt.open(uri) for h, uri in lab.uris().items()}
        self.events = events
        for c in self.conns.values():
            c.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, events.callback, None
            )

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
        seen = self.events.count(guest)
        params = {
            libvirt.VIR_MIGRATE_PARAM_URI: self.uris[dst],
            libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS: "127.0.0.1",
        }
        t0 = time.perf_counter()
        self.conns[src].lookupByName(guest).migrate3(self.conns[dst], params, FLAGS)
        wall = time.perf_counter() - t0
        job = self.events.wait(guest, seen)
        return {
            "wall_s": wall,
            "job_ms": float(job.get("time_elapsed", 0)),
            "downtime_ms": float(job.get("downtime", 0)),
            "mib": float(job.get("data_processed", job.get("memory_processed", 0))) / 2**20,
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
    _start_event_loop()
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
        cluster = Cluster(lab, JobEvents())
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
