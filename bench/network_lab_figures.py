"""Issue 17 figures: ping loss and the longest gap while a guest on a logical network migrates.

A lab of 2 hosts with networks (`lab up --networks`). vm2 pings vm1 on labnet1 from its own
console, `count` pings every `interval` s, while vm1 live-migrates to the other host (managed,
direct, as the engine does). The pinging guest is the one that stays: the migrating guest's own
clock stops while it is paused, so only its peer sees the outage. Lost = pings without a reply;
longest gap = the longest run of consecutive lost pings times the interval, or the slowest reply
if longer (a reply held up by the pause); downtime = what libvirt's completed job reports. The
floor is the same run with no migration. Needs root (the lab).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import libvirt

from bench.common import print_table, save
from ovtui.lab import Lab, guest_net, guest_ping
from ovtui.lab.conn import quiet_libvirt
from ovtui.lab.guests import wait_log
from tests.lab.labtools import migrate


def _run(lab: Lab, count: int, interval: float, move: bool) -> dict[str, Any]:
    here = lab.host_of("vm1")
    pinger = lab.host_of("vm2")
    assert here is not None and pinger is not None
    there = next(h for h in lab.host_names() if h != here)
    downtime = None
    with lab.connect(here) as src, lab.connect(there) as dst, lab.connect(pinger) as pc:
        offset = guest_ping.start_pingrun(pc.lookupByName("vm2"), "10.77.0.1", count, interval)
        log = lab.serial_log("vm2")
        wait_log(log, lambda s: len(guest_net.replies(s)) >= int(1 / interval), offset, 30)
        took = migrate(src, dst, "vm1", lab.migration_uris()[there]) if move else 0.0
        if move:
            stats = dst.lookupByName("vm1").jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
            downtime = stats.get(libvirt.VIR_DOMAIN_JOB_DOWNTIME)
        text = wait_log(log, lambda s: "ovtui-pingdone" in s, offset, timeout=count * interval + 60)
    lost, longest = guest_net.gaps(guest_net.replies(text), count)
    worst = guest_net.worst_rtt_ms(text)
    return {
        "run": f"vm1 {here}->{there}" if move else "no migration (floor)",
        "pings": count,
        "interval_ms": round(interval * 1000),
        "lost": lost,
        "loss_pct": round(100 * lost / count, 1),
        "longest_gap_ms": round(max(longest * interval * 1000, worst)),
        "worst_rtt_ms": round(worst, 1),
        "libvirt_downtime_ms": downtime,
        "migration_s": round(took, 2),
    }


def run(migrations: int, count: int = 100, interval: float = 0.05) -> list[dict[str, Any]]:
    quiet_libvirt()
    lab = Lab(root=Path(tempfile.mkdtemp(prefix="ovtui-lab-", dir="/tmp")))
    try:
        lab.up(hosts=2, guests=2, networks=True)
        time.sleep(2)
        rows = [_run(lab, count, interval, move=False)]
        rows += [_run(lab, count, interval, move=True) for _ in range(migrations)]
        print_table(rows)
        return rows
    finally:
        lab.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--migrations", type=int, default=5)
    rows = run(parser.parse_args().migrations)
    print(f"\nsaved {save('network_lab', rows, __doc__ or '')}")


if __name__ == "__main__":
    main()
