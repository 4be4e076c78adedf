"""`ovtui snapshot list|create|revert|delete`: a VM's snapshots over the API."""

from __future__ import annotations

import argparse
import time

from ovtui.cli.connect import signed_in_client
from ovtui.cli.output import Column, print_json, print_table

COLUMNS: list[Column] = [
    ("NAME", lambda s: s["name"]),
    ("TAKEN", lambda s: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s["created_at"]))),
    ("VM STATE", lambda s: s["vm_state"]),
    ("MEMORY", lambda s: "yes" if s["memory"] else "no"),
    ("CURRENT", lambda s: "*" if s["current"] else ""),
    ("DESCRIPTION", lambda s: s["description"]),
]


def snapshot_list(args: argparse.Namespace) -> None:
    rows = signed_in_client(args).get(f"/api/v1/vms/{args.vm}/snapshots")
    print_json(rows) if args.json else print_table(rows, COLUMNS)


def snapshot_create(args: argparse.Namespace) -> None:
    body = {"name": args.name, "description": args.description, "memory": args.memory}
    out = signed_in_client(args).post(f"/api/v1/vms/{args.vm}/snapshots", body)
    print_json(out) if args.json else print(out["result"])


def snapshot_revert(args: argparse.Namespace) -> None:
    out = signed_in_client(args).post(f"/api/v1/vms/{args.vm}/snapshots/{args.name}/revert")
    print_json(out) if args.json else print(out["result"])


def snapshot_delete(args: argparse.Namespace) -> None:
    path = f"/api/v1/vms/{args.vm}/snapshots/{args.name}"
    out = signed_in_client(args).request("DELETE", path)
    print_json(out) if args.json else print(out["result"])


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    sp = sub.add_parser("snapshot", help="VM snapshots (qcow2 disks)").add_subparsers(
        dest="snapshot_command", required=True, metavar="ACTION"
    )
    for name, func, helptext in (
        ("list", snapshot_list, "a VM's snapshots, oldest first"),
        ("create", snapshot_create, "take a snapshot (--memory: of a running VM's RAM too)"),
        ("revert", snapshot_revert, "revert the VM to a snapshot"),
        ("delete", snapshot_delete, "delete a snapshot"),
    ):
        p = sp.add_parser(name, help=helptext)
        p.add_argument("vm", help="name or UUID")
        if name != "list":
            p.add_argument("name", help="snapshot name")
        if name == "create":
            p.add_argument("--memory", action="store_true")
            p.add_argument("--description", default="")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=func)
