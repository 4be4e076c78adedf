"""`ovtui host power|fence|confirm-rebooted`, `ovtui vm ha`, `ovtui ha`: HA over the API."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from ovtui.cli.connect import signed_in_client
from ovtui.cli.output import print_json

WithJson = Callable[[argparse.ArgumentParser], argparse.ArgumentParser]


def host_power(args: argparse.Namespace) -> None:
    out = signed_in_client(args).post(f"/api/v1/hosts/{args.host}/power", {"action": args.action})
    if args.json:
        print_json(out)
    elif args.action == "status":
        print(f"{args.host}: power {out['state']}")
    else:
        print(f"{args.host}: power {args.action}: {out['result']} ({out['seconds']:.1f} s)")


def host_fence(args: argparse.Namespace) -> None:
    out = signed_in_client(args).post(f"/api/v1/hosts/{args.host}/fence")
    print_json(out) if args.json else print(out["result"])


def host_confirm(args: argparse.Namespace) -> None:
    out = signed_in_client(args).post(f"/api/v1/hosts/{args.host}/confirm-rebooted")
    print_json(out) if args.json else print(out["result"])


def vm_ha(args: argparse.Namespace) -> None:
    body = {"ha": args.state == "on", "priority": args.priority}
    out = signed_in_client(args).request("PUT", f"/api/v1/vms/{args.vm}/ha", json=body)
    print_json(out) if args.json else print(out["result"])


def ha_status(args: argparse.Namespace) -> None:
    st: dict[str, Any] = signed_in_client(args).get("/api/v1/ha")
    if args.json:
        print_json(st)
        return
    now = time.time()
    lost = {n: h for n, h in st["hosts"].items() if h["stage"] != "up"}
    print("hosts: all up" if not lost else "hosts:")
    for name, h in sorted(lost.items()):
        extra = h["held"] or h["last_error"] or (f"by {h['fenced_by']}" if h["fenced_by"] else "")
        print(f"  {name:10} {h['stage']:20} {now - h['since']:6.0f} s  {extra}")
    for cluster, r in st.get("reservation", {}).items():
        print(f"HA reservation {cluster}: {'ok' if r['ok'] else 'LOST'} ({r['detail']})")
    print("recoveries: none" if not st["recoveries"] else "recoveries:")
    for r in st["recoveries"]:
        print(f"  {r['vm']:18} prio {r['priority']:3}  from {r['from']:8} {r['stage']:8} "
              f"attempts {r['attempts']}  {r['last_error']}")  # fmt: skip
    for v in st["left_down"]:
        print(f"left down (not HA): {v['vm']} of {v['host']}")


def add_host_parsers(host: argparse._SubParsersAction, with_json: WithJson) -> None:  # type: ignore[type-arg,unused-ignore]
    p = with_json(host.add_parser("power", help="power status, on, off or reboot via its BMC"))
    p.add_argument("host")
    p.add_argument("action", choices=("status", "on", "off", "reboot"))
    p.set_defaults(func=host_power)
    p = with_json(host.add_parser("fence", help="fence now: power off, confirm off, power on"))
    p.add_argument("host")
    p.set_defaults(func=host_fence)
    what = "confirm a non-responsive host was rebooted (its HA VMs restart)"
    p = with_json(host.add_parser("confirm-rebooted", help=what))
    p.add_argument("host")
    p.set_defaults(func=host_confirm)


def add_vm_parsers(vm: argparse._SubParsersAction, with_json: WithJson) -> None:  # type: ignore[type-arg,unused-ignore]
    p = with_json(vm.add_parser("ha", help="set a VM's HA flag and restart priority"))
    p.add_argument("vm", help="name or UUID")
    p.add_argument("state", choices=("on", "off"))
    p.add_argument("--priority", type=int, default=0, help="0-100, higher restarts first")
    p.set_defaults(func=vm_ha)


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("ha", help="HA status: hosts being fenced, recoveries, VMs left down")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=ha_status)
