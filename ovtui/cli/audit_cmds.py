"""`ovtui audit verify` (reads the trail file, offline) and `ovtui audit list` (over the API)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from auth.audit import verify_chain
from ovtui.cli.connect import CliError, signed_in_client
from ovtui.cli.output import Column, print_json, print_table
from ovtui.config import ConfigError, load_config

AUDIT_FILE = "audit.jsonl"

COLUMNS: list[Column] = [
    ("SEQ", lambda r: r.get("seq", "")),
    ("TIME", lambda r: str(r.get("ts", ""))[:19]),
    (
        "ACTOR",
        lambda r: r.get("actor", "") + (f" ({r['actor_source']})" if r.get("actor_source") else ""),
    ),
    ("ACTION", lambda r: r.get("action", "")),
    ("TARGET", lambda r: r.get("target", "")),
    ("RESULT", lambda r: r.get("result", "")),
    ("DETAIL", lambda r: r.get("detail", "")),
]


def _trail_path(args: argparse.Namespace) -> Path:
    if args.file:
        return Path(args.file)
    try:
        return load_config(args.config).engine.store_dir / AUDIT_FILE
    except ConfigError as exc:
        raise CliError(f"{exc}\n(or name the trail: ovtui audit verify --file PATH)", 2) from None


def read_trail(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The records, and problems with lines that are not records at all."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError as exc:
        raise CliError(f"cannot read the audit trail {path}: {exc.strerror}", 2) from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            problems.append(f"line {number}: not a JSON record: it was edited or damaged")
            continue
        if not isinstance(rec, dict):
            problems.append(f"line {number}: not a JSON object")
            continue
        records.append(rec)
    return records, problems


def verify(args: argparse.Namespace) -> None:
    path = _trail_path(args)
    records, problems = read_trail(path)
    problems += verify_chain(records)
    if problems:
        for p in problems:
            print(f"{path}: {p}")
        raise CliError(f"audit trail {path} is NOT intact: {len(problems)} problem(s)", 1)
    if not records:
        print(f"{path}: empty audit trail")
        return
    first, last = records[0].get("seq"), records[-1].get("seq")
    print(
        f"{path}: intact: {len(records)} records (seq {first}..{last}), "
        f"last hash {str(records[-1].get('hash'))[:16]}..."
    )


def list_records(args: argparse.Namespace) -> None:
    rows = signed_in_client(args).get(
        "/api/v1/audit",
        actor=args.user,
        action=args.action,
        target=args.object,
        since_ts=args.since,
        until_ts=args.until,
        limit=args.limit,
    )
    if args.json:
        print_json(rows)
    else:
        print_table(rows, COLUMNS)


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    audit = sub.add_parser("audit", help="the audit trail: verify its hash chain, list records")
    cmds = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    p = cmds.add_parser("verify", help="check the hash chain (exit 0 intact, 1 damaged)")
    p.add_argument("--file", help="the trail (default: audit.jsonl in the config's store_dir)")
    p.set_defaults(func=verify)
    p = cmds.add_parser("list", help="records, newest last (needs audit.read)")
    p.add_argument("--user", help="only this actor")
    p.add_argument("--action", help="only this action, e.g. login or vm.migrate")
    p.add_argument("--object", help="only targets containing this, e.g. web-01 or prod-a")
    p.add_argument("--since", help="from this time (ISO 8601, e.g. 2025-01-31T08:00; UTC)")
    p.add_argument("--until", help="up to this time (ISO 8601; UTC)")
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=list_records)
