"""Two `ovtui engine` processes on one PostgreSQL database: one active, one standby; kill -9
the active one in the middle of a stream of writes; the standby takes over with everything that
was acknowledged, nothing twice, and an audit chain that verifies."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.audit import verify_chain
from auth.audit_anchor import anchor_problems
from ovtui.store.pg_anchor import PgAnchor
from ovtui.store.pg_database import PgDatabase
from ovtui.store.pg_log import PgLog
from tests.deploy.engines import EngineProcess, engine_config

pytestmark = pytest.mark.slow


def _audit(dsn: str) -> tuple[list[dict[str, Any]], list[str]]:
    db = PgDatabase(dsn, holder="checker")  # reads only
    try:
        records = list(PgLog(db, "audit"))
        anchor = PgAnchor(db, "audit").read()
        assert anchor is not None
        return records, verify_chain(records) + anchor_problems(records, anchor)
    finally:
        db.close()


def test_the_standby_takes_over_when_the_active_engine_is_killed(
    pg_dsn: str, tmp_path: Path
) -> None:
    a = EngineProcess(engine_config(tmp_path / "a", pg_dsn))
    a.wait_status("ok")
    b = EngineProcess(engine_config(tmp_path / "b", pg_dsn))
    try:
        standby = b.wait_status("standby")
        assert standby["active"]["holder"].endswith(f":{a.pid}")
        with b.client() as c:
            refused = c.post("/api/v1/sessions", json={"username": "admin", "password": "x"})
        assert refused.status_code == 503
        error = refused.json()["error"]
        assert error["kind"] == "standby" and f":{a.pid}" in error["message"]
        assert error["detail"]["active"]["holder"].endswith(f":{a.pid}")

        token = a.login()
        acknowledged: list[str] = []
        stop = threading.Event()

        def grant_forever() -> None:
            with a.client(token) as c:
                i = 0
                while not stop.is_set():
                    i += 1
                    body = {"user": f"user{i}", "role": "Operator"}
                    try:
                        r = c.post("/api/v1/grants", json=body)
                    except httpx.HTTPError:
                        return  # killed mid-request: not acknowledged
                    if r.status_code == 201:
                        acknowledged.append(r.json()["id"])

        writer = threading.Thread(target=grant_forever)
        writer.start()
        rng = random.Random(7)
        threading.Event().wait(rng.uniform(0.5, 1.5))
        a.kill()  # SIGKILL, by PID, mid-stream
        stop.set()
        writer.join()
        assert len(acknowledged) > 3

        b.wait_status("ok", timeout=60)
        token_b = b.login()
        with b.client(token_b) as c:
            grants = {g["id"] for g in c.get("/api/v1/grants").json()}
        assert set(acknowledged) <= grants  # nothing acknowledged is lost
        records, problems = _audit(pg_dsn)
        assert problems == []
        assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
        added = [r["target"] for r in records if r["action"] == "grants.add"]
        assert len(added) == len(set(added))  # no action recorded (done) twice
        assert {f"grant/{g}" for g in acknowledged} <= set(added)
        assert not any(r["action"] == "audit.damaged" for r in records)
    finally:
        a.kill()
        b.stop()


def test_an_engine_whose_session_ends_stops_and_the_standby_takes_over(
    pg_dsn: str, tmp_path: Path
) -> None:
    import psycopg

    a = EngineProcess(engine_config(tmp_path / "a", pg_dsn))
    a.wait_status("ok")
    b = EngineProcess(engine_config(tmp_path / "b", pg_dsn))
    try:
        b.wait_status("standby")
        # As a network cut would (keepalives end the session): the server drops a's session.
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (f"ovtui-engine {_holder(a)}",),
            )
        assert a.proc.wait(30) == 1  # it stops instead of acting on without the lead
        assert "lost the lead on the state database" in a.log_text()
        b.wait_status("ok", timeout=60)
        _records, problems = _audit(pg_dsn)
        assert problems == []
    finally:
        a.kill()
        b.stop()


def _holder(engine: EngineProcess) -> str:
    import socket

    return f"{socket.gethostname()}:{engine.pid}"
