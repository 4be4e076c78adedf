"""`ovtui audit verify` (reads the trail file and its anchor, offline) and `ovtui audit list`.

verify checks the whole hash chain (edits, removals, reordering), then the trail's end against
its anchor (audit.anchor next to it: cut short, emptied, rewritten end). The anchor is read
before and after the trail, and again if it moved meanwhile, so a running engine (at most one
record ahead of its anchor) never looks like a cut trail.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from auth.audit import verify_chain
from auth.audit_anchor import Anchor, anchor_problems
from ovtui.cli.connect import CliError, signed_in_client
from ovtui.cli.output import Column, print_json, print_table
from ovtui.config.errors import ConfigError
from ovtui.store import StoreError
from ovtui.store.audit_anchor import AnchorFile, anchor_path

AUDIT_FILE = "audit.jsonl"
READ_ATTEMPTS = 5

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
    from ovtui.config.load import load_config

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


def _read_anchored(
    path: Path, anchor_file: AnchorFile
) -> tuple[list[dict[str, Any]], list[str], Anchor | None]:
    """The trail and an anchor that did not move while the trail was read."""
    for _ in range(READ_ATTEMPTS):
        before = anchor_file.read()
        records, problems = read_trail(path)
        if anchor_file.read() == before:
            return records, problems, before
    raise CliError(f"{anchor_file.path} kept changing while {path} was read: try again", 2)


Checked = tuple[list[dict[str, Any]], list[str], list[str]]


def _with_anchor(path: Path, args: argparse.Namespace) -> Checked:
    """The records, problems with lines, and problems of the trail's end against its anchor."""
    if args.no_anchor:
        records, problems = read_trail(path)
        print(f"{path}: not checked against an anchor (--no-anchor): a cut end would not show")
        return records, problems, []
    anchor_file = AnchorFile(Path(args.anchor) if args.anchor else anchor_path(path))
    try:
        records, problems, anchor = _read_anchored(path, anchor_file)
    except StoreError as exc:
        records, problems = read_trail(path)
        return records, problems, [exc.message]
    if anchor is None:
        missing = (
            f"no anchor {anchor_file.path}: whether records were cut off the end cannot be "
            "told (name it with --anchor PATH, or --no-anchor to check the chain only)"
        )
        return records, problems, [missing]
    return records, problems, anchor_problems(records, anchor)


def _postgres_dsn(args: argparse.Namespace) -> str | None:
    from ovtui.config.load import load_config

    if args.file:
        return None
    try:
        return load_config(args.config).engine.postgresql
    except ConfigError:
        return None  # _trail_path reports it


def _from_postgres(dsn: str) -> tuple[Path, Checked]:
    """The trail and anchor rows of a PostgreSQL store (read only)."""
    from ovtui.store.pg_anchor import PgAnchor
    from ovtui.store.pg_database import PgDatabase
    from ovtui.store.pg_log import PgLog

    try:
        db = PgDatabase(dsn, holder="audit-verify", migrate=False)
    except StoreError as exc:
        raise CliError(exc.message, 2) from None
    try:
        with db.read() as conn:  # one snapshot: the trail and its anchor as of one instant
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                trail, anchor_row = PgLog(db, "audit"), PgAnchor(db, "audit")
                records, anchor = list(trail), anchor_row.read()
            finally:
                conn.execute("COMMIT")
    finally:
        db.close()
    at_end = ["no anchor row for the trail"] if anchor is None and records else []
    if anchor is not None:
        at_end = anchor_problems(records, anchor)
    return trail.path, (records, [], at_end)


def verify(args: argparse.Namespace) -> None:
    dsn = _postgres_dsn(args)
    if dsn:
        path, (records, problems, at_end) = _from_postgres(dsn)
    else:
        path = _trail_path(args)
        records, problems, at_end = _with_anchor(path, args)
    problems += verify_chain(records) + at_end
    if problems:
        for p in problems:
            print(f"{path}: {p}")
        raise CliError(f"audit trail {path} is NOT intact: {len(problems)} problem(s)", 1)
    if not records:
        print(f"{path}: empty audit trail")
        return
    first, last = records[0].get("seq"), records[-1].get("seq")
    anchored = "" if args.no_anchor else ", its end matches its anchor"
    print(
        f"{path}: intact: {len(records)} records (seq {first}..{last}), "
        f"last hash {str(records[-1].get('hash'))[:16]}...{anchored}"
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
    p = cmds.add_parser(
        "verify", help="check the hash chain and the anchor (exit 0 intact, 1 damaged)"
    )
    p.add_argument("--file", help="the trail (default: audit.jsonl in the config's store_dir)")
    p.add_argument("--anchor", help="its anchor (default: the trail's name with .anchor)")
    p.add_argument(
        "--no-anchor", action="store_true", help="check the chain only (a copy without anchor)"
    )
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
