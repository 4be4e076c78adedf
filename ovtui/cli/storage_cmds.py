"""`ovtui storage list|show|refresh` and `ovtui disk ...`: domains and disks over the API."""

from __future__ import annotations

import argparse
import re
from typing import Any

from ovtui.cli.connect import CliError, signed_in_client
from ovtui.cli.output import Column, print_json, print_record, print_table

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """'10G', '512M', '1.5T', '1073741824' -> bytes (binary units, as qemu-img)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?\s*", text.lower())
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 10G, 512M or 1T")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, factor in (("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20)):
        if n >= factor:
            return f"{n / factor:.1f}{unit}"
    return f"{n}B"


def _hosts(row: dict[str, Any]) -> str:
    return " ".join(f"{h['host']}:{h['state']}" for h in row["hosts"])


STORAGE_COLUMNS: list[Column] = [
    ("NAME", lambda r: r["name"]),
    ("TYPE", lambda r: r["type"]),
    ("DC", lambda r: r["datacenter"]),
    ("STATE", lambda r: r["state"]),
    ("CAPACITY", lambda r: size(r["capacity_bytes"])),
    ("USED", lambda r: size(r["allocation_bytes"])),
    ("FREE", lambda r: size(r["available_bytes"])),
    ("HOSTS", _hosts),
]
DISK_COLUMNS: list[Column] = [
    ("NAME", lambda r: r["name"]),
    ("DOMAIN", lambda r: r["domain"]),
    ("FORMAT", lambda r: r["format"]),
    ("ALLOC", lambda r: r["allocation_policy"]),
    ("SIZE", lambda r: size(r["capacity_bytes"])),
    ("USED", lambda r: size(r["allocation_bytes"])),
    ("VMS", lambda r: ",".join(f"{u['vm']}:{u['target']}" for u in r["vms"]) or "-"),
]


def storage_list(args: argparse.Namespace) -> None:
    rows = signed_in_client(args).get("/api/v1/storage", datacenter=args.datacenter)
    print_json(rows) if args.json else print_table(rows, STORAGE_COLUMNS)


def storage_show(args: argparse.Namespace) -> None:
    row = signed_in_client(args).get(f"/api/v1/storage/{args.name}")
    if args.json:
        print_json(row)
        return
    print_record({k: v for k, v in row.items() if k != "hosts"})
    print()
    host_cols: list[Column] = [
        ("HOST", lambda h: h["host"]),
        ("STATE", lambda h: h["state"]),
        ("CAPACITY", lambda h: size(h["capacity_bytes"])),
        ("USED", lambda h: size(h["allocation_bytes"])),
        ("FREE", lambda h: size(h["available_bytes"])),
        ("ERROR", lambda h: h["error"]),
    ]
    print_table(row["hosts"], host_cols)


def storage_refresh(args: argparse.Namespace) -> None:
    row = signed_in_client(args).post(f"/api/v1/storage/{args.name}/refresh")
    if args.json:
        print_json(row)
        return
    print(f"{args.name}: {row['result']}")
    for h in row["hosts"]:
        print(f"  {h['host']}: {h['state']}" + (f" ({h['error']})" if h["error"] else ""))


def disk_list(args: argparse.Namespace) -> None:
    client = signed_in_client(args)
    if args.vm:
        rows = client.get(f"/api/v1/vms/{args.vm}/disks")
        cols: list[Column] = [
            ("TARGET", lambda r: r["target"]),
            ("DOMAIN", lambda r: r["domain"] or "-"),
            ("FORMAT", lambda r: r["format"] or "-"),
            ("SIZE", lambda r: size(r["capacity_bytes"])),
            ("USED", lambda r: size(r["allocation_bytes"])),
            ("SOURCE", lambda r: r["source"]),
        ]
        print_json(rows) if args.json else print_table(rows, cols)
        return
    rows = client.get("/api/v1/disks", storage=args.storage)
    print_json(rows) if args.json else print_table(rows, DISK_COLUMNS)


def _done(args: argparse.Namespace, result: dict[str, Any]) -> None:
    if args.json:
        print_json(result)
        return
    print(result.get("result", "done"))
    for warning in result.get("warnings", []):
        print(f"warning: {warning}")


def disk_create(args: argparse.Namespace) -> None:
    body = {
        "name": args.name,
        "size_bytes": args.size,
        "format": args.format,
        "allocation": "preallocated" if args.preallocated else "thin",
    }
    _done(args, signed_in_client(args).post(f"/api/v1/storage/{args.storage}/disks", body))


def disk_grow(args: argparse.Namespace) -> None:
    path = f"/api/v1/storage/{args.storage}/disks/{args.disk}/grow"
    _done(args, signed_in_client(args).post(path, {"size_bytes": args.size}))


def disk_delete(args: argparse.Namespace) -> None:
    client = signed_in_client(args)
    _done(args, client.request("DELETE", f"/api/v1/storage/{args.storage}/disks/{args.disk}"))


def disk_attach(args: argparse.Namespace) -> None:
    body = {"storage": args.storage, "disk": args.disk}
    _done(args, signed_in_client(args).post(f"/api/v1/vms/{args.vm}/disks", body))


def disk_detach(args: argparse.Namespace) -> None:
    client = signed_in_client(args)
    _done(args, client.request("DELETE", f"/api/v1/vms/{args.vm}/disks/{args.target}"))


def disk_move(args: argparse.Namespace) -> None:
    body = {"storage": args.storage, "volume": args.volume, "bandwidth_mib_s": args.bandwidth}
    result = signed_in_client(args).post(f"/api/v1/vms/{args.vm}/disks/{args.target}/move", body)
    if args.json:
        print_json(result)
        return
    print(result["result"])
    stages = result.get("history", [])
    if len(stages) > 1:
        took = stages[-1][1] - stages[0][1]
        print(f"stages: {' -> '.join(s for s, _ in stages)} ({took:.1f} s)")


MOVE_COLUMNS: list[Column] = [
    ("ID", lambda r: r["id"]),
    ("VM", lambda r: r["vm"]),
    ("DISK", lambda r: r["target_dev"]),
    ("FROM", lambda r: r["source"]["domain"]),
    ("TO", lambda r: r["dest"]["domain"]),
    ("MODE", lambda r: "live" if r["live"] else "copy"),
    ("STAGE", lambda r: r["stage"]),
    ("DONE", lambda r: f"{r['bytes_done'] * 100 // max(r['bytes_total'], 1)}%"),
    ("ERROR", lambda r: r["error"]),
]


def disk_moves(args: argparse.Namespace) -> None:
    rows = signed_in_client(args).get("/api/v1/disk-moves")
    print_json(rows) if args.json else print_table(rows, MOVE_COLUMNS)


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    def with_json(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    st = sub.add_parser("storage", help="storage domains").add_subparsers(
        dest="storage_command", required=True, metavar="ACTION"
    )
    p = with_json(st.add_parser("list", help="storage domains with their state on each host"))
    p.add_argument("--datacenter")
    p.set_defaults(func=storage_list)
    p = with_json(st.add_parser("show", help="one storage domain, host by host"))
    p.add_argument("name")
    p.set_defaults(func=storage_show)
    p = with_json(st.add_parser("refresh", help="realise and read the domain on its hosts now"))
    p.add_argument("name")
    p.set_defaults(func=storage_refresh)

    dk = sub.add_parser("disk", help="disks on storage domains").add_subparsers(
        dest="disk_command", required=True, metavar="ACTION"
    )
    p = with_json(dk.add_parser("list", help="disks of every domain, or of one VM"))
    group = p.add_mutually_exclusive_group()
    group.add_argument("--storage", help="only this storage domain's disks")
    group.add_argument("--vm", help="this VM's disks, with domain, format and sizes")
    p.set_defaults(func=disk_list)
    p = with_json(dk.add_parser("create", help="create a disk (thin unless --preallocated)"))
    p.add_argument("storage")
    p.add_argument("name")
    p.add_argument("size", type=parse_size, help="e.g. 10G")
    p.add_argument("--format", choices=("qcow2", "raw"), default="qcow2")
    p.add_argument("--preallocated", action="store_true", help="reserve every block now")
    p.set_defaults(func=disk_create)
    p = with_json(dk.add_parser("grow", help="grow a disk to SIZE (live if a VM runs it)"))
    p.add_argument("storage")
    p.add_argument("disk")
    p.add_argument("size", type=parse_size)
    p.set_defaults(func=disk_grow)
    p = with_json(dk.add_parser("delete", help="delete a disk no VM uses"))
    p.add_argument("storage")
    p.add_argument("disk")
    p.set_defaults(func=disk_delete)
    p = with_json(dk.add_parser("attach", help="attach a disk to a VM (hot-plug if running)"))
    p.add_argument("vm")
    p.add_argument("storage")
    p.add_argument("disk")
    p.set_defaults(func=disk_attach)
    p = with_json(dk.add_parser("detach", help="detach a VM's disk by device (vdb)"))
    p.add_argument("vm")
    p.add_argument("target")
    p.set_defaults(func=disk_detach)
    p = with_json(
        dk.add_parser("move", help="move a VM's disk to another domain (live if running)")
    )
    p.add_argument("vm")
    p.add_argument("target", help="the VM's device, e.g. vdb")
    p.add_argument("storage", help="the storage domain to move it to")
    p.add_argument("--volume", help="the target LUN (unit:0:0:N) on an iSCSI domain")
    p.add_argument("--bandwidth", type=int, default=0, metavar="MIB_S", help="limit the copy")
    p.set_defaults(func=disk_move)
    p = with_json(dk.add_parser("moves", help="disk moves, running (with progress) and past"))
    p.set_defaults(func=disk_moves)


__all__ = ["CliError", "add_parsers", "parse_size"]
