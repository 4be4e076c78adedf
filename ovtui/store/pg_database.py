"""The engine's state in PostgreSQL: one connection, its DDL versions, leadership and fencing.

Leadership: the active engine holds a session-level advisory lock (LOCK_KEY) on this connection
and, when it took it, incremented `ovtui_leader.token`: its fencing token. Every write runs in
a transaction that first reads the current token FOR SHARE and refuses to go on if it is not
the writer's own (FencedError). So a writer that lost the lock (its session was ended: network
cut, server restart, pg_terminate_backend) and a new leader took over can never write again,
even if it still runs and reconnects; and a takeover (which updates that row) waits for a write
in flight to commit, so writes and takeovers are ordered. The kernel of the idea: the database
decides who may write, at the moment of each write, not the writer's belief.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from ovtui.store.errors import StoreError

log = logging.getLogger(__name__)

LOCK_KEY = 0x6F767475  # "ovtu": the advisory lock the active engine holds
# DDL steps: DDL[n] brings the tables from version n-1 to n (ovtui_pg_schema holds n).
DDL: dict[int, str] = {
    1: """
    CREATE TABLE ovtui_docs (tbl text NOT NULL, id bigint NOT NULL, doc jsonb NOT NULL,
                             PRIMARY KEY (tbl, id));
    CREATE TABLE ovtui_docs_backup (schema_version int NOT NULL, tbl text NOT NULL,
                                    id bigint NOT NULL, doc jsonb NOT NULL,
                                    PRIMARY KEY (schema_version, tbl, id));
    CREATE TABLE ovtui_log (stream text NOT NULL, seq bigint NOT NULL, rec jsonb NOT NULL,
                            PRIMARY KEY (stream, seq));
    CREATE TABLE ovtui_anchor (trail text PRIMARY KEY, seq bigint NOT NULL, hash text NOT NULL);
    CREATE TABLE ovtui_leader (id int PRIMARY KEY CHECK (id = 1), token bigint NOT NULL,
                               holder text NOT NULL, since timestamptz NOT NULL);
    INSERT INTO ovtui_leader VALUES (1, 0, '', now());
    """,
}
LATEST_DDL = max(DDL)


class FencedError(StoreError):
    """This engine is no longer the active one: another took over; it must not write."""


def describe(dsn: str) -> str:
    """The DSN without secrets, for messages."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "postgresql (unparsable DSN)"
    params.pop("password", None)
    host, db = params.get("host", "local socket"), params.get("dbname", "?")
    return f"postgresql://{host}:{params.get('port', 5432)}/{db}"


def identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class PgDatabase:
    """Thread-safe: one connection, used under one lock (the engine writes little, often)."""

    def __init__(self, dsn: str, *, holder: str | None = None, migrate: bool = True) -> None:
        self.dsn, self.where = dsn, describe(dsn)
        self.holder = holder or identity()
        self.token: int | None = None  # set while this engine is the active one
        self._lock = threading.RLock()
        self._depth = 0
        try:
            # keepalives: a peer that vanishes (host down, cable cut) ends the session within
            # ~20 s, which releases its advisory lock so that a standby can take over.
            self.conn = psycopg.connect(
                dsn, autocommit=True, row_factory=tuple_row, connect_timeout=10,
                keepalives=1, keepalives_idle=5, keepalives_interval=5, keepalives_count=3,
                application_name=f"ovtui-engine {self.holder}",
            )  # fmt: skip
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to the state database {self.where}: {str(exc).strip()}; check "
                "engine.postgresql in the config and that the server runs and accepts this host"
            ) from None
        if migrate:  # readers (ovtui audit verify) look, and change nothing
            self._bring_up_to_date()

    # -- schema ------------------------------------------------------------------------------
    def _bring_up_to_date(self) -> None:
        with self._lock, self.conn.transaction():
            # One engine at a time migrates: a transaction-level lock, dropped at commit.
            self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY + 1,))
            self.conn.execute("CREATE TABLE IF NOT EXISTS ovtui_pg_schema (version int NOT NULL)")
            row = self.conn.execute("SELECT version FROM ovtui_pg_schema").fetchone()
            version = row[0] if row else 0
            if version > LATEST_DDL:
                raise StoreError(
                    f"the state database {self.where} has table layout {version}, this ovtui "
                    f"knows up to {LATEST_DDL}: upgrade ovtui (every engine on this database)"
                )
            for step in range(version + 1, LATEST_DDL + 1):
                self.conn.execute(DDL[step])
                log.info("state database %s: table layout %d", self.where, step)
            if version == 0:
                self.conn.execute("INSERT INTO ovtui_pg_schema VALUES (%s)", (LATEST_DDL,))
            elif version < LATEST_DDL:
                self.conn.execute("UPDATE ovtui_pg_schema SET version = %s", (LATEST_DDL,))

    # -- leadership --------------------------------------------------------------------------
    def try_lead(self) -> bool:
        """Become the active engine if none is; True when this one is now (or already was)."""
        with self._lock:
            if self.token is not None:
                return True
            got = self._one("SELECT pg_try_advisory_lock(%s)", LOCK_KEY)
            if not got:
                return False
            with self.conn.transaction():
                token = self._one(
                    "UPDATE ovtui_leader SET token = token + 1, holder = %s, since = now() "
                    "WHERE id = 1 RETURNING token",
                    self.holder,
                )
            self.token = int(token)
            log.info("active engine on %s (fencing token %d)", self.where, self.token)
            return True

    def leader(self) -> dict[str, Any]:
        """Who is active: {"holder", "token", "since"} (holder "" before the first one)."""
        with self._lock:
            row = self.conn.execute("SELECT holder, token, since FROM ovtui_leader").fetchone()
        assert row is not None
        return {"holder": row[0], "token": int(row[1]), "since": row[2].isoformat()}

    def check_leadership(self) -> None:
        """Raises FencedError unless this engine still holds the current token."""
        with self._lock:
            current = self._one("SELECT token FROM ovtui_leader WHERE id = 1")
        if self.token is None or current != self.token:
            raise self._fenced(current)

    # -- transactions ------------------------------------------------------------------------
    @contextlib.contextmanager
    def write(self) -> Iterator[psycopg.Connection[Any]]:
        """A transaction that commits only if this engine's token is still the current one."""
        with self._lock:
            try:
                with self.conn.transaction():
                    self._depth += 1
                    try:
                        if self._depth == 1:
                            current = self._one(
                                "SELECT token FROM ovtui_leader WHERE id = 1 FOR SHARE"
                            )
                            if self.token is None or current != self.token:
                                raise self._fenced(current)
                        yield self.conn
                    finally:
                        self._depth -= 1
            except psycopg.OperationalError as exc:
                raise StoreError(
                    f"the state database {self.where} went away mid-write ({str(exc).strip()}); "
                    "the change was not stored"
                ) from None

    @contextlib.contextmanager
    def read(self) -> Iterator[psycopg.Connection[Any]]:
        with self._lock:
            yield self.conn

    def close(self) -> None:
        with self._lock, contextlib.suppress(psycopg.Error):
            self.conn.close()  # ends the session: the advisory lock goes with it

    def _one(self, sql: str, *params: Any) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        assert row is not None
        return row[0]

    def _fenced(self, current: Any) -> FencedError:
        return FencedError(
            f"this engine ({self.holder}, fencing token {self.token}) is no longer the active one "
            f"on {self.where} (current token {current}): it stops writing; another engine took over"
        )
