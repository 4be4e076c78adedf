"""`ovtui lab ...`: bring a lab of libvirtd hosts and QEMU guests up and down on this machine.

The ovtui main program calls add_lab_subparser(subparsers); the parsed namespace then carries
`func(args)`, which runs the command and raises SystemExit with the exit code when it is not 0
(so `ovtui lab status h1` exits 3 for a host that is down). `python -m ovtui.lab` runs the same.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ovtui.lab.paths import CACHE_ENV, ROOT_ENV

DESCRIPTION = (
    "A lab of libvirtd hosts running QEMU guests on this machine, the way kind turns one machine "
    "into a Kubernetes cluster. Each host is a libvirtd in its own namespaces, reached on a unix "
    "socket; `up` also writes an ovtui config for the lab (ovtui.toml in the lab directory)."
)
EXIT_HOST_DOWN = 3  # `status HOST` for a host that is not running (like LSB status)


def add_lab_subparser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "lab",
        help="a lab of libvirtd hosts with QEMU guests on this machine (root)",
        description=DESCRIPTION,
    )
    configure_parser(parser)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root", type=Path, help=f"lab directory (${ROOT_ENV}, /var/lib/ovtui-lab)"
    )
    parser.add_argument(
        "--cache", type=Path, help=f"guest image cache (${CACHE_ENV}, /var/cache/ovtui-lab)"
    )
    sub = parser.add_subparsers(dest="lab_command", required=True, metavar="COMMAND")
    up = sub.add_parser("up", help="start what is missing of the lab; idempotent")
    up.add_argument("--hosts", type=int, default=3, help="number of hosts (default 3)")
    up.add_argument("--vms", type=int, default=6, help="number of guests (default 6)")
    up.add_argument("--memory", type=int, default=96, help="MiB per guest (default 96)")
    up.add_argument("--vcpus", type=int, default=1, help="vCPUs per guest (default 1)")
    up.add_argument("--no-wait", action="store_true", help="do not wait for guests to boot")
    up.add_argument(
        "--bmc", action="store_true", help="give every host an IPMI BMC (ipmi_sim) on 127.0.0.1"
    )
    up.add_argument(
        "--networks",
        action="store_true",
        help="logical networks labnet1/labnet2 on every host, a virtio NIC in every guest",
    )
    st = sub.add_parser("status", help="show hosts and guests; with HOST, exit 3 if it is down")
    st.add_argument("host", nargs="?")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    sub.add_parser("down", help="kill every process of the lab and remove its files")
    fail = sub.add_parser("fail", help="simulate a host failure: kill its libvirtd and QEMUs")
    fail.add_argument("host")
    fail.add_argument("--hang", action="store_true", help="freeze it (SIGSTOP) instead")
    fail.add_argument(
        "--daemon", action="store_true", help="with --hang: freeze only libvirtd (QEMUs run on)"
    )
    fail.add_argument("--then-heal", action="store_true", help="a power cycle: fail, then heal")
    restart = sub.add_parser(
        "restart-daemon", help="restart a host's libvirtd, frozen or not; its QEMUs run on"
    )
    restart.add_argument("host")
    heal = sub.add_parser("heal", help="bring a failed or frozen host back")
    heal.add_argument("host")
    heal.add_argument("--start-guests", action="store_true", help="also start its guests")
    load = sub.add_parser("load", help="set the number of busy loops a guest runs")
    load.add_argument("guest")
    load.add_argument("loops", type=int)
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    code = run(args)
    if code:
        raise SystemExit(code)
    return 0


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    import libvirt  # here, not at the top: building the parser must stay cheap (every command)

    from ovtui.lab.conn import quiet_libvirt
    from ovtui.lab.lab import Lab, LabError

    quiet_libvirt()
    lab = Lab(root=args.root, cache=args.cache, say=_say)
    cmd = args.lab_command
    try:
        if cmd == "up":
            report = lab.up(
                args.hosts,
                args.vms,
                args.memory,
                args.vcpus,
                wait_boot=not args.no_wait,
                bmc=args.bmc,
                networks=args.networks,
            )
            print(report.render())
        elif cmd == "status":
            report = lab.status()
            if args.host:
                status = report.host(args.host).status
                print(status)
                return 0 if status == "running" else EXIT_HOST_DOWN
            if args.json:
                print(json.dumps(dataclasses.asdict(report), default=str, indent=2))
            else:
                print(report.render())
        elif cmd == "down":
            report = lab.down()
            print(f"lab in {lab.root} is down ({len(report.hosts)} hosts stopped)")
        elif cmd == "fail":
            if args.hang and args.daemon:
                print(f"host {args.host}: libvirtd (PID {lab.freeze_daemon(args.host)}) frozen")
            else:
                lab.fail(args.host, hang=args.hang)
                print(f"host {args.host} {'frozen' if args.hang else 'failed'}")
            if args.then_heal:
                lab.heal(args.host)
                print(f"host {args.host} running again")
        elif cmd == "restart-daemon":
            print(f"host {args.host}: libvirtd restarted (PID {lab.restart_daemon(args.host)})")
        elif cmd == "heal":
            lab.heal(args.host, start_guests=args.start_guests)
            print(f"host {args.host} running: {lab.uris()[args.host]}")
        elif cmd == "load":
            lab.set_load(args.guest, args.loops)
            print(f"guest {args.guest} runs {args.loops} busy loop(s)")
    except (LabError, KeyError, PermissionError, TimeoutError, RuntimeError, ValueError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"ovtui lab {cmd}: error: {msg}", file=sys.stderr)
        return 1
    except libvirt.libvirtError as exc:
        print(f"ovtui lab {cmd}: libvirt error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ovtui.lab", description=DESCRIPTION)
    configure_parser(parser)
    return run(parser.parse_args(argv))
