"""`ovtui vm create|delete`: provisioning over the API (added to the `vm` command group)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ovtui.cli.connect import CliError, signed_in_client
from ovtui.cli.output import print_json
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
    p.add_argument("--vcpus", type=int, default=1)
    p.add_argument("--memory", type=int, default=512, help="MiB")
    p.add_argument("--disk", type=_disk, action="append", help="DOMAIN:SIZE[:FORMAT[:ALLOC]]")
    p.add_argument("--nic", type=_nic, action="append", help="BRIDGE or network:NAME")
    p.add_argument("--template", default="Blank")
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
