"""The PostgreSQL store behind the same interfaces as TinyDB, against a real server."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
from tinydb import TinyDB, where

from ovtui.store import Store, StoreError
from ovtui.store.pg_database import FencedError, PgDatabase
from ovtui.store.state import open_postgres


def _leading(dsn: str, holder: str = "a") -> PgDatabase:
    db = PgDatabase(dsn, holder=holder)
    assert db.try_lead()
    return db


def _eventually_leads(db: PgDatabase, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not db.try_lead():
        assert time.monotonic() < deadline, "the lock was never released"
        time.sleep(0.02)


def test_documents_settings_and_tables_survive_a_reopen(pg_dsn: str) -> None:
    db = _leading(pg_dsn)
    state = open_postgres(db)
    store = state.store
    store.set_setting("mode", {"c1": "off"})
    store.set_host_state("h1", maintenance=True, reason="disk")
    store.table("grants").insert({"id": "g1", "role": "Operator"})
    store.table("grants").insert({"id": "g2", "role": "Auditor"})
    store.table("grants").remove(where("id") == "g1")
    with pytest.raises(RuntimeError), store.transaction():
        store.set_setting("mode", "lost")
        raise RuntimeError("discarded with the transaction")
    state.close()

    again = open_postgres(_leading(pg_dsn, "b"))
    assert again.store.get_setting("mode") == {"c1": "off"}
    assert again.store.host_state("h1") == {"name": "h1", "maintenance": True, "reason": "disk"}
    assert [g["id"] for g in again.store.table("grants").all()] == ["g2"]
    assert again.store.schema_version >= 1
    again.close()


def test_streams_keep_order_and_numbering(pg_dsn: str) -> None:
    state = open_postgres(_leading(pg_dsn))
    for i in range(5):
        state.events.append({"kind": "e", "i": i})
    state.migrations.append({"vm": "x"})
    assert [r["seq"] for r in state.events.read()] == [1, 2, 3, 4, 5]
    assert [r["i"] for r in state.events.tail(2)] == [3, 4]
    assert [r["i"] for r in state.events.read(since_seq=3)] == [3, 4]
    assert [r["i"] for r in state.events.read(predicate=lambda r: r["i"] % 2 == 0)] == [0, 2, 4]
    assert state.migrations.last_seq == 1
    state.close()
    again = open_postgres(_leading(pg_dsn, "b"))
    assert again.events.last_seq == 5
    assert again.events.append({"kind": "e"})["seq"] == 6
    again.close()


def test_schema_migrations_run_on_postgres_as_on_tinydb(pg_dsn: str) -> None:
    db = _leading(pg_dsn)
    with Store.open_postgres(db, migrations={}) as store:
        store.set_host_state("h2", reason="old name")
    calls: list[int] = []

    def step(tdb: TinyDB) -> None:
        calls.append(2)
        hosts = tdb.table("hosts")
        for doc in hosts.all():
            hosts.update({"why": doc["reason"]}, doc_ids=[doc.doc_id])

    with Store.open_postgres(db, migrations={2: step}) as store:
        assert store.schema_version == 2 and store.host_state("h2")["why"] == "old name"
    with Store.open_postgres(db, migrations={2: step}) as store:
        assert calls == [2]
    with db.read() as conn:
        kept = conn.execute("SELECT count(*) FROM ovtui_docs_backup WHERE schema_version = 1")
        assert kept.fetchone() == (2,)  # _meta and the host, as they were before the step
    with pytest.raises(StoreError, match="has schema 2, this ovtui knows up to 1: upgrade"):
        Store.open_postgres(db, migrations={})
    db.close()


def test_one_engine_leads_and_a_deposed_one_cannot_write(pg_dsn: str) -> None:
    a = _leading(pg_dsn, "engine-a")
    b = PgDatabase(pg_dsn, holder="engine-b")
    assert not b.try_lead()
    assert b.leader()["holder"] == "engine-a"
    state = open_postgres(a)
    state.events.append({"kind": "by a"})
    # a's session ends behind its back (as after a network cut): the lock goes with it.
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'ovtui-engine engine-a'"
        )
    _eventually_leads(b)  # pg_terminate_backend signals; the session ends a moment later
    assert b.token == (a.token or 0) + 1
    # Even reconnected, a's token is stale: every write is refused (fencing).
    a.conn = psycopg.connect(pg_dsn, autocommit=True)
    with pytest.raises(FencedError, match="no longer the active one"):
        state.events.append({"kind": "by a, too late"})
    with pytest.raises(FencedError):
        state.store.set_setting("k", "v")
    with pytest.raises(FencedError):
        a.check_leadership()
    b_state = open_postgres(b)
    assert [r["kind"] for r in b_state.events.read()] == ["by a"]
    b_state.close()
    a.close()


def test_a_bad_dsn_is_one_clear_error() -> None:
    with pytest.raises(StoreError, match="cannot connect to the state database"):
        PgDatabase("host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2")


def test_a_dsn_with_a_clear_password_is_refused_in_the_config() -> None:
    from pydantic import ValidationError

    from ovtui.config.schema import EngineSection

    with pytest.raises(ValidationError, match="password in clear: put it in a passfile"):
        EngineSection(postgresql="host=db1 dbname=ovtui user=ovtui password=secret")
    assert EngineSection(postgresql="host=db1 dbname=ovtui passfile=/etc/ovtui/pgpass").postgresql


def test_audit_verify_reads_the_trail_from_postgres(
    pg_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from auth.audit import GENESIS, AuditTrail
    from ovtui.cli.main import main

    db = _leading(pg_dsn)
    state = open_postgres(db)
    trail = AuditTrail(state.audit.append, GENESIS, anchor=state.anchor.write)
    for i in range(3):
        trail.record(actor="admin", action="grants.add", target=f"grant/{i}")
    config = tmp_path / "ovtui.toml"
    config.write_text(f'[engine]\npostgresql = "{pg_dsn}"\n')
    assert main(["audit", "verify", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "intact: 3 records" in out and "its end matches its anchor" in out
    with db.write() as conn:  # cut the last record off, as an intruder with SQL access would
        conn.execute("DELETE FROM ovtui_log WHERE stream = 'audit' AND seq = 3")
    assert main(["audit", "verify", "--config", str(config)]) == 1
    assert "cut off its end (truncated)" in capsys.readouterr().out
    state.close()


def test_an_all_in_one_backup_restores_into_postgres_and_an_engine_runs_on_it(
    pg_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    from ovtui.cli.main import main
    from ovtui.store.backup import take_backup
    from tests.deploy.engines import EngineProcess, engine_config

    files = tmp_path / "files"
    shutil.copytree(Path(__file__).parents[1] / "store/fixtures/state-0.1.0", files)
    archive = take_backup(files, tmp_path / "b.tar.gz").path
    config = engine_config(tmp_path / "e", pg_dsn)
    assert main(["restore", "--config", str(config), str(archive)]) == 0, capsys.readouterr()
    assert "restored" in capsys.readouterr().out
    assert main(["restore", "--config", str(config), str(archive)]) == 1
    assert "already holds ovtui state" in capsys.readouterr().err
    engine = EngineProcess(config)
    try:
        engine.wait_status("ok")
        with engine.client(engine.login()) as c:
            assert any(g.get("user") == "frank" for g in c.get("/api/v1/grants").json())
            hosts = {h["name"]: h for h in c.get("/api/v1/hosts").json()}
            assert hosts["h2"]["maintenance"] is True
    finally:
        engine.stop()
    assert main(["audit", "verify", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "intact" in out and "its end matches its anchor" in out
