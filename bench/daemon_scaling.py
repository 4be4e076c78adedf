"""Does one test-driver libvirtd cost more per call the more clients it serves?

`python -m bench.daemon_scaling --sizes 100,500 [--save NAME]`: for each size, a fleet of HOSTS
node files (40 VMs each) served by ONE libvirtd (bench/testdriver_daemon.py), and, in one run:
- `open_cpu_ms_first` / `_last`: the daemon's CPU per connection opened, for the first and the
  last `BATCH` connections opened (the daemon parses a node file per open)
- `poll_cpu_ms_per_host`: the daemon's CPU per host for the poll's two calls (getAllDomainStats
  STATE + listAllDomains TRANSIENT) on every host, once all connections are open
- `xml_cpu_ms_per_vm`: the daemon's CPU per XMLDesc, for every VM of `BATCH` hosts
- `cheap_cpu_us_per_call`: the daemon's CPU per getHostname() on one connection while all the
  others are open and idle (what an event loop that looks at every client's fd would grow)
A daemon whose cost does not grow with its clients shows the same per-call figures at every size.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import libvirt

from bench.bytecode import loadavg
from bench.common import RESULTS, print_table
from bench.testdriver_daemon import TestDriverDaemon
from ovtui.config import load_config
from ovtui.testdriver_fleet import synthetic_spec, write_fleet

BATCH = 50
CHEAP_CALLS = 2000


def _measure(hosts: int, hosts_per_daemon: int | None) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="ovb-ds-"))
    config = write_fleet(synthetic_spec(hosts, 40, seed=1), root)
    with TestDriverDaemon(root, hosts_per_daemon=hosts_per_daemon) as daemon:
        daemon.serve(config)
        uris = [h.uri for h in load_config(config).hosts]
        row: dict[str, Any] = {"hosts": hosts, "daemons": len(daemon.pids), "load": loadavg()}
        conns, per_open = [], []
        for i in range(0, hosts, BATCH):
            cpu0, t0 = daemon.cpu_s(), time.perf_counter()
            conns += [libvirt.open(u) for u in uris[i : i + BATCH]]
            n = len(uris[i : i + BATCH])
            per_open.append(((daemon.cpu_s() - cpu0) / n, (time.perf_counter() - t0) / n))
        row["open_cpu_ms_first"] = round(per_open[0][0] * 1000, 2)
        row["open_cpu_ms_last"] = round(per_open[-1][0] * 1000, 2)
        row["open_wall_ms_first"] = round(per_open[0][1] * 1000, 2)
        row["open_wall_ms_last"] = round(per_open[-1][1] * 1000, 2)
        cpu0, t0 = daemon.cpu_s(), time.perf_counter()
        for c in conns:
            c.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE, 0)
            c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)
        row["poll_cpu_ms_per_host"] = round((daemon.cpu_s() - cpu0) / hosts * 1000, 3)
        row["poll_wall_ms_per_host"] = round((time.perf_counter() - t0) / hosts * 1000, 3)
        doms = [d for c in conns[-BATCH:] for d in c.listAllDomains()]
        cpu0, t0 = daemon.cpu_s(), time.perf_counter()
        for d in doms:
            d.XMLDesc(0)
        row["xml_cpu_ms_per_vm"] = round((daemon.cpu_s() - cpu0) / len(doms) * 1000, 3)
        row["xml_wall_ms_per_vm"] = round((time.perf_counter() - t0) / len(doms) * 1000, 3)
        del doms
        cpu0, t0 = daemon.cpu_s(), time.perf_counter()
        for _ in range(CHEAP_CALLS):
            conns[0].getHostname()
        row["cheap_cpu_us_per_call"] = round((daemon.cpu_s() - cpu0) / CHEAP_CALLS * 1e6, 1)
        row["cheap_wall_us_per_call"] = round((time.perf_counter() - t0) / CHEAP_CALLS * 1e6, 1)
        for c in conns:
            c.close()
        row["load_end"] = loadavg()
        return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,500")
    parser.add_argument("--hosts-per-daemon", type=int, default=None, help="default: one daemon")
    parser.add_argument("--save", help="write bench/results/NAME.json")
    args = parser.parse_args()
    per = args.hosts_per_daemon
    rows = [_measure(int(s), per or int(s)) for s in args.sizes.split(",")]
    print_table(rows)
    if args.save:
        path = RESULTS / f"{args.save}.json"
        path.write_text(json.dumps({"notes": __doc__, "rows": rows}, indent=2) + "\n")
        print(f"saved {path}")


if __name__ == "__main__":
    main()
