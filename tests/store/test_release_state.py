"""Upgrades: state as the previous release wrote it (fixtures/state-0.1.0) is read and migrated at
start; state newer than this code understands stops the engine with a message saying what to do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tinydb import TinyDB

from ovtui.cli.main import main
from ovtui.store import Store
from tests.conftest import API, fleet_config, standard_spec

FIXTURE = Path(__file__).parent / "fixtures" / "state-0.1.0"


def _with_release_state(root: Path) -> None:
    shutil.copytree(FIXTURE, root / "store")


def test_an_engine_starts_on_the_previous_releases_state(start_engine: Any) -> None:
    live = start_engine(prepare=_with_release_state)
    admin = live.as_role("SuperUser")
    assert any(g.get("user") == "frank" for g in admin.get(f"{API}/grants").json())
    hosts = {h["name"]: h for h in admin.get(f"{API}/hosts").json()}
    assert hosts["h2"]["maintenance"] is True
    modes = {p["cluster"]: p["mode"] for p in admin.get(f"{API}/policies").json()}
    assert modes["c1"] == "off"
    live.stop()
    records = live.audit_records()
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert not any(r["action"] == "audit.damaged" for r in records)
    assert main(["audit", "verify", "--file", str(live.audit_path)]) == 0


def test_the_previous_releases_state_is_migrated_at_open(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "s")
    before = (tmp_path / "s" / "state.json").read_bytes()

    def rename_reason(db: TinyDB) -> None:  # a schema-2 step of the kind a release would ship
        hosts = db.table("hosts")
        for doc in hosts.all():
            if "reason" in doc:
                hosts.update({"maintenance_reason": doc["reason"]}, doc_ids=[doc.doc_id])

    with Store.open(tmp_path / "s", migrations={2: rename_reason}) as store:
        assert store.schema_version == 2
        assert store.host_state("h2")["maintenance_reason"] == "fixture"
        assert store.get_setting("policy.mode.c1") == "off"
    assert (tmp_path / "s" / "state.json.schema-1.bak").read_bytes() == before


def test_an_engine_refuses_state_newer_than_it_understands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def newer(root: Path) -> None:
        _with_release_state(root)
        path = root / "store" / "state.json"
        data = json.loads(path.read_text())
        data["_meta"]["1"]["schema_version"] = 7
        path.write_text(json.dumps(data))
        toml = root / "ovtui.toml"
        assert "[auth]" not in toml.read_text()
        users = root / "local-users.toml"
        toml.write_text(toml.read_text() + f'\n[auth]\nlocal_users_file = "{users}"\n')

    config = fleet_config(standard_spec(), tmp_path, prepare=newer)
    state = (config.engine.store_dir / "state.json").read_bytes()
    config_file = config.source
    assert main(["engine", "--config", str(config_file)]) == 1
    err = capsys.readouterr().err
    assert "engine not started" in err
    assert "has schema 7, this ovtui knows up to 1: upgrade ovtui or restore a backup" in err
    assert (config.engine.store_dir / "state.json").read_bytes() == state
