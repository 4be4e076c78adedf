"""Restore an `ovtui backup` archive into PostgreSQL: how an all-in-one appliance's state moves
to the distributed deployment (or a database is rebuilt from an archive).

Same checks as the file restore (ovtui.store.backup.read_backup and the audit chain), then one
transaction: the documents of state.json, every JSON-lines stream as rows with their own seq
and ts, the audit anchor. The database must hold no ovtui state yet, and no engine may be
active on it: this takes the lead for the time of the restore (and fences any engine after).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb

from ovtui.store.backup import ANCHOR_FILE, AUDIT_FILE, _parse_anchor, check_backup, read_backup
from ovtui.store.database import STATE_FILE
from ovtui.store.errors import StoreError
from ovtui.store.pg_database import PgDatabase

STREAMS = {"events.jsonl": "events", "migrations.jsonl": "migrations", AUDIT_FILE: "audit"}


def restore_to_postgres(archive: Path, dsn: str) -> dict[str, Any]:
    manifest, files = read_backup(archive)
    check_backup(archive, manifest, files)
    db = PgDatabase(dsn, holder="ovtui-restore")
    try:
        if not db.try_lead():
            raise StoreError(
                f"an engine is active on {db.where} ({db.leader()['holder']}): stop every engine "
                "on this database before restoring into it"
            )
        with db.write() as conn:
            used = conn.execute(
                "SELECT (SELECT count(*) FROM ovtui_docs) + (SELECT count(*) FROM ovtui_log)"
            ).fetchone()
            if used and used[0]:
                raise StoreError(
                    f"{db.where} already holds ovtui state: restore into an empty database "
                    "(createdb a new one, or drop this one's ovtui_* tables first)"
                )
            tables = json.loads(files[STATE_FILE])
            conn.cursor().executemany(
                "INSERT INTO ovtui_docs (tbl, id, doc) VALUES (%s, %s, %s)",
                [(t, int(i), Jsonb(d)) for t, docs in tables.items() for i, d in docs.items()],
            )
            for name, stream in STREAMS.items():
                lines = files.get(name, b"").splitlines()
                rows = [json.loads(line) for line in lines if line.strip()]
                conn.cursor().executemany(
                    "INSERT INTO ovtui_log (stream, seq, rec) VALUES (%s, %s, %s)",
                    [(stream, r["seq"], Jsonb(r)) for r in rows if isinstance(r.get("seq"), int)],
                )
            anchor = _parse_anchor(files[ANCHOR_FILE]) if ANCHOR_FILE in files else None
            if anchor is not None:
                conn.execute(
                    "INSERT INTO ovtui_anchor (trail, seq, hash) VALUES ('audit', %s, %s)",
                    (anchor.seq, anchor.hash),
                )
    finally:
        db.close()
    return manifest
