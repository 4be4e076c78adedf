"""`ovtui network list|show|create|attach|delete`: logical networks over the API (those of
ovtui.toml are shown here and changed there)."""

from __future__ import annotations

import argparse
from typing import Any

from ovtui.cli.connect import CliError, signed_in_client
from ovtui.cli.output import Column, print_json, print_record, print_table

NETWORK_COLUMNS: list[Column] = [
    ("NAME", lambda r: r["name"]),
    ("DATACENTER", lambda r: r["datacenter"]),
    ("BRIDGE", lambda r: r["bridge"]),
    ("MTU", lambda r: r["mtu"]),
    ("VLAN", lambda r: "" if r["vlan"] is None else f"{r['vlan']} (untested)"),
    ("CLUSTERS", lambda r: ", ".join(f"{c}:{k}" for c, k in r["clusters"].items())),
    ("HOSTS UP", lambda r: f"{sum(h['state'] == 'up' for h in r['hosts'])}/{len(r['hosts'])}"),
]
HOST_NET_COLUMNS: list[Column] = [
    ("HOST", lambda r: r["host"]),
    ("CLUSTER", lambda r: r["cluster"]),
    ("REQUIRED", lambda r: "required" if r["required"] else "optional"),
    ("STATE", lambda r: r["state"]),
    ("MTU", lambda r: r["mtu"] or ""),
]
# The networks of one host (GET /hosts/{host}), for `ovtui host show`.
HOST_NETWORKS: list[Column] = [
    ("NETWORK", lambda r: r["name"]),
    ("BRIDGE", lambda r: r["bridge"]),
    ("REQUIRED", lambda r: "required" if r["required"] else "optional"),
    ("STATE", lambda r: r["state"]),
]


def network_list(args: argparse.Namespace) -> None:
    rows = signed_in_client(args).get("/api/v1/networks", datacenter=args.datacenter)
    if args.json:
        print_json(rows)
        return
    print_table(rows, NETWORK_COLUMNS)
    if any(r["untested"] for r in rows):
        print("(VLAN tags and bonds are modelled but UNTESTED: no 802.1Q or bonding in the lab)")


def network_show(args: argparse.Namespace) -> None:
    rows: list[dict[str, Any]] = signed_in_client(args).get(
        "/api/v1/networks", name=args.network, datacenter=args.datacenter
    )
    if not rows:
        raise CliError(f"no network named {args.network!r} (list them: ovtui network list)")
    if len(rows) > 1 and not args.json:
        where = ", ".join(r["datacenter"] for r in rows)
        raise CliError(f"{args.network!r} is a network of {where}: add --datacenter")
    if args.json:
        print_json(rows[0] if len(rows) == 1 else rows)
        return
    row = rows[0]
    print_record({k: v for k, v in row.items() if k not in ("hosts", "clusters")})
    print()
    print_table(row["hosts"], HOST_NET_COLUMNS)


def _clusters(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        cluster, sep, usage = item.partition("=")
        if not sep or usage not in ("required", "optional"):
            raise CliError(f"--cluster {item!r}: write CLUSTER=required or CLUSTER=optional")
        out[cluster] = usage
    return out


def _done(args: argparse.Namespace, result: dict[str, Any]) -> None:
    if args.json:
        print_json(result)
    else:
        print(result["result"])


def network_create(args: argparse.Namespace) -> None:
    body: dict[str, Any] = {
        "name": args.network,
        "bridge": args.bridge,
        "mtu": args.mtu,
        "description": args.description,
        "clusters": _clusters(args.cluster),
    }
    if args.vlan is not None:
        body["vlan"] = args.vlan
    path = f"/api/v1/datacenters/{args.datacenter}/networks"
    _done(args, signed_in_client(args).post(path, body))
    if args.vlan is not None and not args.json:
        print("(VLAN tags are modelled but UNTESTED: no 802.1Q in the lab)")


def network_attach(args: argparse.Namespace) -> None:
    path = f"/api/v1/datacenters/{args.datacenter}/networks/{args.network}/clusters"
    body = {"clusters": _clusters(args.cluster)}
    _done(args, signed_in_client(args).request("PUT", path, json=body))


def network_delete(args: argparse.Namespace) -> None:
    path = f"/api/v1/datacenters/{args.datacenter}/networks/{args.network}"
    _done(args, signed_in_client(args).request("DELETE", path))


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    net = sub.add_parser("network", help="logical networks").add_subparsers(
        dest="network_cmd", required=True
    )
    p = net.add_parser("list", help="logical networks and how many hosts have them")
    p.add_argument("--datacenter")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=network_list)
    p = net.add_parser("show", help="one network and its state on each host")
    p.add_argument("network")
    p.add_argument("--datacenter")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=network_show)
    cluster_help = "CLUSTER=required|optional (repeat for several clusters)"
    p = net.add_parser("create", help="define a logical network in a data center")
    p.add_argument("network")
    p.add_argument("--datacenter", required=True)
    p.add_argument("--bridge", required=True, help="the bridge each host has for it")
    p.add_argument("--mtu", type=int, default=1500)
    p.add_argument("--vlan", type=int, help="802.1Q tag (UNTESTED)")
    p.add_argument("--description", default="")
    p.add_argument("--cluster", action="append", default=[], help=cluster_help)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=network_create)
    p = net.add_parser("attach", help="put a network on exactly these clusters (none: detach)")
    p.add_argument("network")
    p.add_argument("--datacenter", required=True)
    p.add_argument("--cluster", action="append", default=[], help=cluster_help)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=network_attach)
    p = net.add_parser("delete", help="delete a network no cluster and no VM NIC uses")
    p.add_argument("network")
    p.add_argument("--datacenter", required=True)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=network_delete)
