"""Where the engine's state lives, chosen by the config: the one place that knows the backend.

TinyDB (files in engine.store_dir) is the embedded default; engine.postgresql = "<libpq DSN>"
puts everything (documents, the three streams, the audit anchor) in PostgreSQL instead, where
several engines may share it and one leads (pg_database). The engine gets the same interfaces
either way: a Store, three logs and an anchor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from auth.audit_anchor import Anchor
from ovtui.store.audit_anchor import AnchorFile, anchor_path
from ovtui.store.database import Store
from ovtui.store.jsonl_log import JsonlLog

AUDIT_FILE = "audit.jsonl"


class Log(Protocol):
    """What JsonlLog and PgLog both are: an append-only stream of records with a seq."""

    path: Path
    cut: bytes
    cut_bytes: int
    unreadable_end: int

    @property
    def last_seq(self) -> int: ...
    def append(self, record: Mapping[str, Any]) -> dict[str, Any]: ...
    def tail(self, n: int) -> list[dict[str, Any]]: ...
    def read(
        self,
        since_seq: int | None = None,
        limit: int = 1000,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[dict[str, Any]]: ...
    def __iter__(self) -> Iterator[dict[str, Any]]: ...
    def reopen(self) -> bool: ...
    def close(self) -> None: ...


class AnchorStore(Protocol):
    path: Path

    def read(self) -> Anchor | None: ...
    def write(self, seq: int, digest: str) -> None: ...


@dataclass
class State:
    store: Store
    events: Log
    migrations: Log
    audit: Log
    anchor: AnchorStore
    database: Any = None  # the PgDatabase (leadership) when on PostgreSQL

    def close(self) -> None:
        """Closes each part, even if one before it failed (that error is raised at the end)."""
        parts: list[Any] = [self.store, self.events, self.migrations, self.audit]
        failed: Exception | None = None
        for part in [*parts, *([self.database] if self.database is not None else [])]:
            try:
                part.close()
            except Exception as exc:
                failed = failed or exc
        if failed is not None:
            raise failed


def open_files(store_dir: Path) -> State:
    store = Store.open(store_dir)
    logs: list[JsonlLog] = []
    try:  # one that cannot be opened: those opened before it are closed again
        logs.append(JsonlLog(store_dir / AUDIT_FILE, fsync=True))
        logs.append(JsonlLog(store_dir / "events.jsonl"))
        logs.append(JsonlLog(store_dir / "migrations.jsonl"))
    except BaseException:
        for opened in logs:
            opened.close()
        store.close()
        raise
    audit, events, migrations = logs
    return State(store, events, migrations, audit, AnchorFile(anchor_path(audit.path)))


def open_postgres(database: Any) -> State:
    """On a PgDatabase whose engine leads (PgDatabase.try_lead returned True)."""
    from ovtui.store.pg_anchor import PgAnchor
    from ovtui.store.pg_log import PgLog

    return State(
        Store.open_postgres(database),
        PgLog(database, "events"),
        PgLog(database, "migrations"),
        PgLog(database, "audit"),
        PgAnchor(database, "audit"),
        database,
    )
