"""python -m ovtui.testdriver_fleet (--demo | --hosts N --vms-per-host M) [--xml-only] DIR"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ovtui.testdriver_fleet.demo import demo_spec
from ovtui.testdriver_fleet.files import write_fleet, write_nodes
from ovtui.testdriver_fleet.synthetic import synthetic_spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ovtui.testdriver_fleet",
        description="Write a libvirt test-driver fleet (node XML per host) and an ovtui config. "
        "VM load on such a fleet is synthetic.",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--demo", action="store_true", help="the embedded demo fleet")
    which.add_argument("--hosts", type=int, metavar="N", help="a generated fleet of N hosts")
    parser.add_argument("--vms-per-host", type=int, default=40, metavar="M")
    parser.add_argument("--clusters", type=int, default=None, help="default: one per 50 hosts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--xml-only", action="store_true", help="write the node files only (no ovtui.toml)"
    )
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.demo:
            spec = demo_spec()
        else:
            spec = synthetic_spec(
                args.hosts, args.vms_per_host, clusters=args.clusters, seed=args.seed
            )
    except ValueError as exc:
        parser.error(str(exc))
    if args.xml_only:
        paths = write_nodes(spec, args.directory)
        print(f"wrote {len(paths)} node files to {args.directory.resolve()}")
    else:
        config = write_fleet(spec, args.directory)
        print(f"wrote {len(spec.hosts)} node files and {config}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
