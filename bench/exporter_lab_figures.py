"""Issue 4 figures on real libvirtd: exporter scrape time and memory on a lab (3 hosts, 9 guests).

The same measurements as bench/exporter_figures.py (floor = getAllDomainStats with NOWAIT on
every host, one thread; cold = statistics expired; warm = within the 5 s reuse window; memory =
engine RSS), against the lab's libvirtd daemons and QEMU (TCG) guests instead of the test driver.
Real hosts add per-VM CPU, balloon, vCPU, block and network series. Needs root (the lab).
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path
from typing import Any

from bench.common import print_table, save
from bench.exporter_figures import _engine, _floor, _free_port
from ovtui.lab import Lab
from ovtui.lab.conn import quiet_libvirt


def run(repeat: int, hosts: int = 3, guests: int = 9) -> list[dict[str, Any]]:
    quiet_libvirt()
    lab = Lab(root=Path(tempfile.mkdtemp(prefix="ovtui-lab-", dir="/tmp")))
    try:
        lab.up(hosts=hosts, guests=guests)
        port = _free_port()
        config = lab.config_path
        text, n = re.subn(
            r'(?m)^listen = "127\.0\.0\.1:\d+"', f'listen = "127.0.0.1:{port}"', config.read_text()
        )
        assert n == 1, "the lab config has no [exporter] listen line to point at a free port"
        config.write_text(text)
        floor = _floor(list(lab.uris().values()))
        measured = _engine(config, port, hosts, repeat)
        row = {
            "where": "lab (libvirtd + QEMU)",
            "hosts": hosts,
            "vms": guests,
            "libvirt_floor_ms": round(floor * 1000, 1),
            **measured,
            "cold/floor": round(measured["scrape_cold_ms"] / (floor * 1000), 1),
        }
        print_table([row])
        return [row]
    finally:
        lab.down()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    rows = run(parser.parse_args().repeat)
    print(f"\nsaved {save('exporter_lab', rows, __doc__ or '')}")


if __name__ == "__main__":
    main()
