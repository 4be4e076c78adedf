"""`ovtui vm nic add|remove|link`: a VM's NICs over the API (MAC from the data center's pool)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ovtui.cli.connect import signed_in_client
from ovtui.cli.output import print_json


def _done(args: argparse.Namespace, result: dict[str, object]) -> None:
    if args.json:
        print_json(result)
    else:
        print(f"{result['vm']} on {result['host']}: NIC {result['mac']} {result['result']}")


def nic_add(args: argparse.Namespace) -> None:
    body: dict[str, object] = {"network": args.network, "model": args.model}
    if args.mac:
        body["mac"] = args.mac
    _done(args, signed_in_client(args).post(f"/api/v1/vms/{args.vm}/nics", body))


def nic_remove(args: argparse.Namespace) -> None:
    _done(args, signed_in_client(args).request("DELETE", f"/api/v1/vms/{args.vm}/nics/{args.mac}"))


def nic_link(args: argparse.Namespace) -> None:
    path = f"/api/v1/vms/{args.vm}/nics/{args.mac}/link"
    _done(args, signed_in_client(args).post(path, {"state": args.state}))


def add_parsers(
    vm: argparse._SubParsersAction,  # type: ignore[type-arg,unused-ignore]
    with_json: Callable[[argparse.ArgumentParser], argparse.ArgumentParser],
) -> None:
    nic = vm.add_parser("nic", help="add, remove or (un)plug the link of a VM's NICs")
    sub = nic.add_subparsers(dest="nic_cmd", required=True)
    p = with_json(sub.add_parser("add", help="plug a NIC on a logical network"))
    p.add_argument("vm", help="name or UUID")
    p.add_argument("network", help="logical network (ovtui network list)")
    p.add_argument("--model", default="virtio", choices=("virtio", "e1000", "rtl8139"))
    p.add_argument("--mac", help="default: the lowest free address of the pool")
    p.set_defaults(func=nic_add)
    p = with_json(sub.add_parser("remove", help="unplug a NIC"))
    p.add_argument("vm")
    p.add_argument("mac")
    p.set_defaults(func=nic_remove)
    p = with_json(sub.add_parser("link", help="set a NIC's link up or down"))
    p.add_argument("vm")
    p.add_argument("mac")
    p.add_argument("state", choices=("up", "down"))
    p.set_defaults(func=nic_link)
