"""`ovtui vm ...`, `ovtui host ...`, `ovtui events`: inventory and actions over the API."""

from __future__ import annotations

import argparse
from typing import Any

from ovtui.cli import ha_cmds, nic_cmds
from ovtui.cli.connect import signed_in_client
from ovtui.cli.output import Column, pct, print_json, print_record, print_table, synthetic_note

VM_ACTIONS = ("start", "shutdown", "poweroff", "reboot", "suspend", "resume")


def _cpu(row: dict[str, Any]) -> str:
    mark = "*" if row.get("load_source") == "synthetic" else ""
    return pct(row.get("cpu_usage")) + mark


def _mem(row: dict[str, Any]) -> str:
    total = row.get("memory_mib") or 0
    if row.get("vms_config_pending"):  # some VM's XML is still being read: not known yet
        return f"?/{total / 1024:.0f} GiB"
    return f"{row.get('memory_used_mib', 0) / 1024:.0f}/{total / 1024:.0f} GiB"


def _vm_host(row: dict[str, Any]) -> str:
    """A moving VM's source and target (state migrating); otherwise the host it is on."""
    target = row.get("migration_target")
    host = str(row["host"])
    return f"{host} -> {target}" if row.get("state") == "migrating" and target else host


VM_COLUMNS: list[Column] = [
    ("NAME", lambda r: r["name"]),
    ("STATE", lambda r: r["state"]),
    ("HOST", lambda r: _vm_host(r)),
    ("CLUSTER", lambda r: r["cluster"]),
    # "?": the VM's domain XML is still being read (config_pending), its sizes not known yet.
    ("VCPU", lambda r: "?" if r.get("config_pending") else r["vcpus"]),
    ("MEM", lambda r: "?" if r.get("config_pending") else f"{r['memory_mib'] / 1024:g}G"),
    ("CPU", _cpu),
    (
        "FLAGS",
        lambda r: (
            "?"
            if r.get("config_pending")
            else ",".join(
                f
                for f, on in (
                    ("ha", r["highly_available"]),
                    ("pinned", r["pinned"]),
                    ("nomigrate", not r["migratable"]),
                )
                if on
            )
        ),
    ),
]
HOST_COLUMNS: list[Column] = [
    ("NAME", lambda r: r["name"]),
    ("STATE", lambda r: r["state"]),
    ("CLUSTER", lambda r: r["cluster"]),
    ("CPUS", lambda r: r["cpus"]),
    ("CPU", _cpu),
    ("MEMORY", _mem),
    ("VMS", lambda r: r["vms_running"]),
    ("MIGRATION", lambda r: "live" if r["live_migration"] else "cold only"),
    ("REASON", lambda r: r["state_reason"]),
]


def vm_list(args: argparse.Namespace) -> None:
    client = signed_in_client(args)
    rows = client.get(
        "/api/v1/vms", host=args.host, cluster=args.cluster, state=args.state, name=args.name
    )
    if args.json:
        print_json(rows)
        return
    print_table(rows, VM_COLUMNS)
    synthetic_note(rows)


def vm_show(args: argparse.Namespace) -> None:
    row = signed_in_client(args).get(f"/api/v1/vms/{args.vm}")
    print_json(row) if args.json else print_record(row)


def vm_action(args: argparse.Namespace) -> None:
    result = signed_in_client(args).post(f"/api/v1/vms/{args.vm}/{args.action}")
    if args.json:
        print_json(result)
    else:
        print(
            f"{result['vm']} on {result['host']}: {args.action} {result['result']} "
            f"({result['seconds']:.1f} s)"
        )


def vm_migrate(args: argparse.Namespace) -> None:
    result = signed_in_client(args).post(f"/api/v1/vms/{args.vm}/migrate", {"target": args.target})
    if args.json:
        print_json(result)
        return
    print(
        f"{result['vm']}: {result['source']} -> {result['target']}, {result['mode']} migration, "
        f"{result['seconds']:.1f} s"
    )
    if result.get("note"):
        print(f"note: {result['note']}")


def host_list(args: argparse.Namespace) -> None:
    rows = signed_in_client(args).get("/api/v1/hosts", cluster=args.cluster, state=args.state)
    if args.json:
        print_json(rows)
        return
    print_table(rows, HOST_COLUMNS)
    synthetic_note(rows)


def host_show(args: argparse.Namespace) -> None:
    row = signed_in_client(args).get(f"/api/v1/hosts/{args.host}")
    if args.json:
        print_json(row)
        return
    print_record({k: v for k, v in row.items() if k not in ("vms", "networks")})
    if row.get("networks"):
        from ovtui.cli.network_cmds import HOST_NETWORKS

        print()
        print_table(row["networks"], HOST_NETWORKS)
    print()
    print_table(row["vms"], VM_COLUMNS)


def host_maintenance(args: argparse.Namespace) -> None:
    client = signed_in_client(args)
    result = client.post(f"/api/v1/hosts/{args.host}/maintenance", {"reason": args.reason})
    if args.json:
        print_json(result)
        return
    print(f"{result['host']}: {result['result']}")
    for move in result.get("moved", []):
        print(f"  moved {move['vm']} -> {move['target']}")


def host_activate(args: argparse.Namespace) -> None:
    result = signed_in_client(args).post(f"/api/v1/hosts/{args.host}/activate")
    print_json(result) if args.json else print(f"{result['host']}: {result['result']}")


def events(args: argparse.Namespace) -> None:
    rows = signed_in_client(args).get("/api/v1/events", limit=args.limit, host=args.host)
    if args.json:
        print_json(rows)
        return
    for r in rows:
        subject = r.get("vm") or ""
        print(
            f"{r['ts']}  {r.get('host', ''):<10} {subject:<18} {r['what']}  {r.get('detail', '')}"
        )


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    def with_json(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    vm = sub.add_parser("vm", help="list, inspect and act on VMs").add_subparsers(
        dest="vm_cmd", required=True
    )
    p = with_json(vm.add_parser("list", help="list VMs"))
    for opt in ("host", "cluster", "state", "name"):
        p.add_argument(f"--{opt}", help=f"only VMs with this {opt}")
    p.set_defaults(func=vm_list)
    p = with_json(vm.add_parser("show", help="one VM"))
    p.add_argument("vm", help="name or UUID")
    p.set_defaults(func=vm_show)
    for act in VM_ACTIONS:
        p = with_json(vm.add_parser(act, help=f"{act} a VM (waits for the outcome)"))
        p.add_argument("vm", help="name or UUID")
        p.set_defaults(func=vm_action, action=act)
    p = with_json(vm.add_parser("migrate", help="move a VM to another host of its cluster"))
    p.add_argument("vm", help="name or UUID")
    p.add_argument("target", help="destination host")
    p.set_defaults(func=vm_migrate)
    ha_cmds.add_vm_parsers(vm, with_json)
    nic_cmds.add_parsers(vm, with_json)

    host = sub.add_parser("host", help="list and inspect hosts").add_subparsers(
        dest="host_cmd", required=True
    )
    p = with_json(host.add_parser("list", help="list hosts"))
    p.add_argument("--cluster")
    p.add_argument("--state")
    p.set_defaults(func=host_list)
    p = with_json(host.add_parser("show", help="one host with its VMs"))
    p.add_argument("host")
    p.set_defaults(func=host_show)
    p = with_json(host.add_parser("maintenance", help="move every VM off a host, then flag it"))
    p.add_argument("host")
    p.add_argument("--reason", default="")
    p.set_defaults(func=host_maintenance)
    p = with_json(host.add_parser("activate", help="return a host from maintenance"))
    p.add_argument("host")
    p.set_defaults(func=host_activate)
    ha_cmds.add_host_parsers(host, with_json)

    p = with_json(sub.add_parser("events", help="recent events"))
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--host")
    p.set_defaults(func=events)
