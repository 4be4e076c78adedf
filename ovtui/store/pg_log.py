"""Append-only streams (events, migrations, audit) as rows of ovtui_log: JsonlLog's interface.

Each record is one row keyed (stream, seq), written in a fenced transaction: a record is stored
whole or not at all, so there is never a torn line to cut (`cut`, `cut_bytes` and
`unreadable_end` stay empty), and the primary key makes a seq written twice impossible.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from psycopg.types.json import Jsonb

from ovtui.store.pg_database import PgDatabase

Record = dict[str, Any]
PAGE = 1000


class PgLog:
    def __init__(self, database: PgDatabase, stream: str) -> None:
        self.database, self.stream = database, stream
        self.path = Path(f"{database.where}#{stream}")  # for messages
        self.cut, self.cut_bytes, self.unreadable_end = b"", 0, 0
        self._lock = threading.Lock()
        with database.read() as conn:
            row = conn.execute(
                "SELECT coalesce(max(seq), 0) FROM ovtui_log WHERE stream = %s", (stream,)
            ).fetchone()
        assert row is not None
        self._last_seq = int(row[0])

    @property
    def last_seq(self) -> int:
        return self._last_seq

    def append(self, record: Mapping[str, Any]) -> Record:
        with self._lock:
            seq = record.get("seq", self._last_seq + 1)
            if not isinstance(seq, int) or isinstance(seq, bool) or seq <= self._last_seq:
                raise ValueError(f"seq {seq!r} does not follow {self._last_seq} in {self.path}")
            rest = {k: v for k, v in record.items() if k not in ("seq", "ts")}
            stamped = {"seq": seq, "ts": record.get("ts") or _now(), **rest}
            with self.database.write() as conn:
                conn.execute(
                    "INSERT INTO ovtui_log (stream, seq, rec) VALUES (%s, %s, %s)",
                    (self.stream, seq, Jsonb(stamped)),
                )
            self._last_seq = seq
        return stamped

    def tail(self, n: int) -> list[Record]:
        if n <= 0:
            return []
        rows = self._query("ORDER BY seq DESC LIMIT %s", n)
        rows.reverse()
        return rows

    def read(
        self,
        since_seq: int | None = None,
        limit: int = 1000,
        predicate: Callable[[Record], bool] | None = None,
    ) -> list[Record]:
        out: list[Record] = []
        after = -1 if since_seq is None else since_seq
        while len(out) < limit:
            page = self._query("AND seq > %s ORDER BY seq LIMIT %s", after, PAGE)
            if not page:
                break
            for rec in page:
                if predicate is None or predicate(rec):
                    out.append(rec)
                    if len(out) == limit:
                        break
            after = page[-1]["seq"]
        return out

    def __iter__(self) -> Iterator[Record]:
        after = -1
        while page := self._query("AND seq > %s ORDER BY seq LIMIT %s", after, PAGE):
            yield from page
            after = page[-1]["seq"]

    def reopen(self) -> bool:
        return False  # rows are not rotated by logrotate

    def close(self) -> None:
        pass  # the database connection belongs to the engine's PgDatabase

    def __enter__(self) -> PgLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _query(self, rest: str, *params: Any) -> list[Record]:
        with self.database.read() as conn:
            rows = conn.execute(
                f"SELECT rec FROM ovtui_log WHERE stream = %s {rest}",
                (self.stream, *params),
            ).fetchall()
        return [r[0] for r in rows]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
