"""TinyDB storage on PostgreSQL: the same Store (tables, settings, migrations) on ovtui_docs.

Like AtomicJSONStorage, the active engine is the only writer, so the tables are read once and
memory is the truth after that; each write stores only the documents that changed, in one
transaction (fenced: see pg_database), so a crash leaves the old or the new state, never a mix.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinydb.storages import Storage

if TYPE_CHECKING:  # psycopg is imported only by engines that use PostgreSQL
    from ovtui.store.pg_database import PgDatabase

Tables = dict[str, dict[str, Any]]


class PgStorage(Storage):
    def __init__(self, database: PgDatabase) -> None:
        self.database = database
        self.path = Path(database.where)  # for messages: names the database, no secret
        self._write_lock = threading.Lock()
        self._batch_depth = 0
        self._batch_dirty = False
        self._closed = False
        self._stored: Tables = self._load()
        self._data: Tables | None = _copy(self._stored) if self._stored else None

    def read(self) -> Tables | None:
        return self._data

    def write(self, data: Tables) -> None:
        with self._write_lock:
            if self._closed:
                raise ValueError(f"write to {self.path} after the store was closed")
            self._data = data
            if self._batch_depth:
                self._batch_dirty = True
                return
            self._flush()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hold writes in memory; store them in one transaction at the end (as the file does)."""
        with self._write_lock:
            self._batch_depth += 1
        try:
            yield
        except BaseException:
            with self._write_lock:
                self._batch_depth -= 1
                if self._batch_depth == 0 and self._batch_dirty:
                    self._batch_dirty = False
                    self._data = _copy(self._stored) or None
            raise
        with self._write_lock:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._batch_dirty:
                self._batch_dirty = False
                self._flush()

    def save_copy(self, schema_version: int) -> str:
        """Keep the documents as they are before a schema upgrade (ovtui_docs_backup)."""
        with self.database.write() as conn:
            conn.execute(
                "DELETE FROM ovtui_docs_backup WHERE schema_version = %s", (schema_version,)
            )
            conn.execute(
                "INSERT INTO ovtui_docs_backup SELECT %s, tbl, id, doc FROM ovtui_docs",
                (schema_version,),
            )
        return f"table ovtui_docs_backup (schema_version = {schema_version})"

    def close(self) -> None:
        with self._write_lock:
            self._closed = True

    def _flush(self) -> None:
        from psycopg.types.json import Jsonb

        new = self._data or {}
        upserts, deletes = [], []
        for tbl in set(new) | set(self._stored):
            before, after = self._stored.get(tbl, {}), new.get(tbl, {})
            for doc_id, doc in after.items():
                if before.get(doc_id) != doc:
                    upserts.append((tbl, int(doc_id), Jsonb(doc)))
            deletes += [(tbl, int(doc_id)) for doc_id in before if doc_id not in after]
        if not upserts and not deletes:
            return
        try:
            with self.database.write() as conn, conn.cursor() as cur:
                if deletes:
                    cur.executemany("DELETE FROM ovtui_docs WHERE tbl = %s AND id = %s", deletes)
                if upserts:
                    cur.executemany(
                        "INSERT INTO ovtui_docs (tbl, id, doc) VALUES (%s, %s, %s) "
                        "ON CONFLICT (tbl, id) DO UPDATE SET doc = EXCLUDED.doc",
                        upserts,
                    )
        except BaseException:
            # Memory must never claim a change that was not stored (as AtomicJSONStorage).
            self._data = _copy(self._stored) or None
            raise
        self._stored = _copy(new)

    def _load(self) -> Tables:
        tables: Tables = {}
        with self.database.read() as conn:
            for tbl, doc_id, doc in conn.execute(
                "SELECT tbl, id, doc FROM ovtui_docs ORDER BY tbl, id"
            ):
                tables.setdefault(tbl, {})[str(doc_id)] = doc
        return tables


def _copy(tables: Tables) -> Tables:
    # A deep copy that TinyDB cannot alias: it mutates what it reads in place.
    return json.loads(json.dumps(tables))
