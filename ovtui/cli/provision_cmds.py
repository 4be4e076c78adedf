"""`ovtui vm create|delete`: provisioning over the API (added to the `vm` command group)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ovtui.cli.connect import CliError, signed_in_client
from ovtui.cli.output import Column, print_json, print_record, print_table
from ovtui.cli.storage_cmds import parse_size, size


def _disk(text: str) -> dict[str, Any]:
    """DOMAIN:SIZE[:FORMAT[:preallocated]], e.g. shared:10G or shared:20G:raw:preallocated."""
    parts = text.split(":")
    if len(parts) < 2 or len(parts) > 4 or not parts[0]:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a disk as DOMAIN:SIZE[:FORMAT[:preallocated]] (shared:10G)"
        )
    disk: dict[str, Any] = {"storage": parts[0], "size_bytes": parse_size(parts[1])}
    if len(parts) > 2:
        disk["format"] = parts[2]
    if len(parts) > 3:
        disk["allocation"] = parts[3]
    return disk


def _nic(text: str) -> dict[str, Any]:
    """BRIDGE, or network:NAME for a libvirt network."""
    kind, _, name = text.rpartition(":")
    return {"type": kind or "bridge", "source": name}


def vm_create(args: argparse.Namespace) -> None:
    body: dict[str, Any] = {
        "name": args.name,
        "vcpus": args.vcpus,
        "memory_mib": args.memory,
        "disks": args.disk or [],
        "nics": args.nic or [],
        "description": args.description,
        "highly_available": args.ha,
        "ha_priority": args.priority,
        "pinned": args.pinned,
        "migratable": not args.not_migratable,
        "affinity_group": args.affinity,
        "template": args.template,
        "thin": not args.full,
        "host": args.host,
        "start": args.start,
    }
    out = signed_in_client(args).post(f"/api/v1/clusters/{args.cluster}/vms", body)
    if args.json:
        print_json(out)
        return
    print(out["result"])
    print(f"  host: {out['placement']}")
    for d in out["disks"]:
        print(f"  disk {d['target']}: {d['domain']}/{d['volume']} ({d['format']})")
    for w in out["warnings"]:
        print(f"warning: {w}")


def vm_delete(args: argparse.Namespace) -> None:
    client = signed_in_client(args)
    if args.disks and not args.yes:
        disks = client.get(f"/api/v1/vms/{args.vm}/disks")
        print(f"deleting {args.vm} and its disks:")
        for d in disks:
            print(f"  {d['target']}: {d['source']} ({size(d['capacity_bytes'])})")
        if not sys.stdin.isatty():
            raise CliError("not a terminal: add --yes to delete them", code=2)
        if input("delete them? [y/N] ").strip().lower() not in ("y", "yes"):
            raise CliError("nothing deleted", code=1)
    out = client.request("DELETE", f"/api/v1/vms/{args.vm}", params={"disks": args.disks})
    if args.json:
        print_json(out)
        return
    print(out["result"])
    for kept in out["kept_disks"]:
        print(f"kept: {kept}")


def _vm_group(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:  # type: ignore[type-arg,unused-ignore]
    """The `vm` group's sub-commands (made by inventory_cmds): provisioning adds its own."""
    vm = sub.choices["vm"]
    return next(a for a in vm._actions if isinstance(a, argparse._SubParsersAction))


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    vm = _vm_group(sub)
    p = vm.add_parser("create", help="create a VM (the scheduler picks a host unless --host)")
    p.add_argument("name")
    p.add_argument("--cluster", required=True)
    p.add_argument("--vcpus", type=int, help="default: the template's, or 1")
    p.add_argument("--memory", type=int, help="MiB; default: the template's, or 512")
    p.add_argument("--disk", type=_disk, action="append", help="DOMAIN:SIZE[:FORMAT[:ALLOC]]")
    p.add_argument("--nic", type=_nic, action="append", help="BRIDGE or network:NAME")
    p.add_argument("--template", default="Blank")
    p.add_argument("--full", action="store_true", help="copy the template's disks (not thin)")
    p.add_argument("--description", default="")
    p.add_argument("--ha", action="store_true", help="highly available")
    p.add_argument("--priority", type=int, default=0, help="HA restart priority 0-100")
    p.add_argument("--pinned", action="store_true")
    p.add_argument("--not-migratable", action="store_true")
    p.add_argument("--affinity", default="", help="affinity group")
    p.add_argument("--host", help="this host (it must pass the scheduler's filters)")
    p.add_argument("--start", action="store_true")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=vm_create)
    p = vm.add_parser("delete", help="delete a shut-off VM (--disks: and its disks)")
    p.add_argument("vm", help="name or UUID")
    p.add_argument("--disks", action="store_true", help="delete its disks too (listed first)")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=vm_delete)
    add_more_parsers(sub)


def vm_clone(args: argparse.Namespace) -> None:
    out = signed_in_client(args).post(f"/api/v1/vms/{args.vm}/clone", {"name": args.name})
    if args.json:
        print_json(out)
        return
    print(out["result"])
    for d in out["disks"]:
        print(f"  disk {d['target']}: {d['domain']}/{d['volume']}")


def vm_edit(args: argparse.Namespace) -> None:
    body = {
        k: v
        for k, v in (
            ("vcpus", args.vcpus),
            ("memory_mib", args.memory),
            ("description", args.description),
            ("highly_available", args.ha),
            ("ha_priority", args.priority),
            ("pinned", args.pinned),
            ("migratable", args.migratable),
            ("affinity_group", args.affinity),
        )
        if v is not None
    }
    out = signed_in_client(args).request("PATCH", f"/api/v1/vms/{args.vm}", json=body)
    if args.json:
        print_json(out)
        return
    print(out["result"])


TEMPLATE_COLUMNS: list[Column] = [
    ("NAME", lambda t: t["name"]),
    ("DC", lambda t: t["datacenter"] or "*"),
    ("DISKS", lambda t: ",".join(f"{d['domain']}/{d['volume']}" for d in t["disks"]) or "-"),
    ("FROM", lambda t: t["source_vm"] or "-"),
    ("VMS", lambda t: str(len(t["vms"]))),
    ("DESCRIPTION", lambda t: t["description"]),
]


def template_list(args: argparse.Namespace) -> None:
    rows = signed_in_client(args).get("/api/v1/templates")
    print_json(rows) if args.json else print_table(rows, TEMPLATE_COLUMNS)


def template_show(args: argparse.Namespace) -> None:
    row = signed_in_client(args).get(f"/api/v1/templates/{args.name}")
    if args.json:
        print_json(row)
        return
    print_record({k: v for k, v in row.items() if k != "disks"})
    for d in row["disks"]:
        print(f"  disk {d['target']}: {d['domain']}/{d['volume']} ({size(d['capacity_bytes'])})")


def template_create(args: argparse.Namespace) -> None:
    body = {"name": args.name, "description": args.description}
    out = signed_in_client(args).post(f"/api/v1/vms/{args.vm}/template", body)
    print_json(out) if args.json else print(out["result"])


def template_delete(args: argparse.Namespace) -> None:
    out = signed_in_client(args).request("DELETE", f"/api/v1/templates/{args.name}")
    print_json(out) if args.json else print(out["result"])


def vm_import(args: argparse.Namespace) -> None:
    body = {
        "source": args.source,
        "storage": args.storage,
        "name": args.name,
        "vcpus": args.vcpus,
        "memory_mib": args.memory,
        "start": args.start,
        "v2v": args.v2v,
    }
    out = signed_in_client(args).post(f"/api/v1/clusters/{args.cluster}/vms/import", body)
    if args.json:
        print_json(out)
        return
    print(out["result"])
    for d in out["disks"]:
        print(f"  disk {d['target']}: {d['domain']}/{d['volume']}")


def _bool(text: str) -> bool:
    if text.lower() in ("yes", "true", "on", "1"):
        return True
    if text.lower() in ("no", "false", "off", "0"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r}: give yes or no")


def add_more_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    vm = _vm_group(sub)
    p = vm.add_parser("clone", help="copy a shut-off VM (its disks copied in full)")
    p.add_argument("vm", help="name or UUID")
    p.add_argument("name", help="the clone's name")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=vm_clone)
    p = vm.add_parser("edit", help="change size (live where possible), description, flags")
    p.add_argument("vm", help="name or UUID")
    p.add_argument("--vcpus", type=int)
    p.add_argument("--memory", type=int, help="MiB")
    p.add_argument("--description")
    p.add_argument("--ha", type=_bool, metavar="yes|no")
    p.add_argument("--priority", type=int, help="HA restart priority 0-100")
    p.add_argument("--pinned", type=_bool, metavar="yes|no")
    p.add_argument("--migratable", type=_bool, metavar="yes|no")
    p.add_argument("--affinity", help="affinity group ('' for none)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=vm_edit)

    p = vm.add_parser("import", help="a disk image or an OVA (under import_dir) as a new VM")
    p.add_argument("source", help="file name relative to [provision] import_dir")
    p.add_argument("--cluster", required=True)
    p.add_argument("--storage", required=True, help="storage domain for its disks")
    p.add_argument("--name", help="default: the OVF's name or the file's")
    p.add_argument("--vcpus", type=int)
    p.add_argument("--memory", type=int, help="MiB")
    p.add_argument("--start", action="store_true")
    p.add_argument("--v2v", action="store_true", help="driver conversion (virt-v2v)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=vm_import)

    tp = sub.add_parser("template", help="VM templates").add_subparsers(
        dest="template_command", required=True, metavar="ACTION"
    )
    p = tp.add_parser("list", help="templates (Blank is built in)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=template_list)
    p = tp.add_parser("show", help="one template and the VMs made from it")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=template_show)
    p = tp.add_parser("create", help="make a template from a shut-off VM")
    p.add_argument("vm", help="name or UUID of a shut-off VM")
    p.add_argument("name")
    p.add_argument("--description", default="")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=template_create)
    p = tp.add_parser("delete", help="delete a template no VM's disks depend on")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=template_delete)
