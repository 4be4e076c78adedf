"""Backup of a running engine, restored into a new engine: same operator state, audit verifies."""

from __future__ import annotations

import io
import json
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest

from ovtui.cli.main import main
from ovtui.store.backup import MANIFEST, read_backup, restore_backup, take_backup
from ovtui.store.errors import StoreError
from tests.conftest import API, LiveEngine, fleet_config, standard_spec

# What the store holds about the inventory; where a VM runs is libvirt's, not in a backup.
HOST_KEYS = ("name", "cluster", "datacenter", "maintenance")
VM_KEYS = ("uuid", "name", "cluster")


def _stable(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return sorted(({k: r.get(k) for k in keys} for r in rows), key=lambda r: str(r["name"]))


def _operator_view(live: LiveEngine) -> dict[str, Any]:
    admin = live.as_role("SuperUser")
    live.settle()
    return {
        "hosts": _stable(admin.get(f"{API}/hosts").json(), HOST_KEYS),
        "vms": _stable(admin.get(f"{API}/vms").json(), VM_KEYS),
        "grants": admin.get(f"{API}/grants").json(),
        "policies": admin.get(f"{API}/policies").json(),
    }


def _verify(cli_args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(cli_args)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_backup_of_a_running_engine_restores_into_a_new_engine(
    start_engine: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = start_engine()
    admin = old.as_role("SuperUser")
    r = admin.post(
        f"{API}/grants",
        json={"user": "frank", "role": "Operator", "scope": "cluster", "object": "c1"},
    )
    assert r.status_code == 201, r.text
    assert admin.put(f"{API}/policies/c1/mode", json={"mode": "off"}).status_code == 200
    r = admin.post(f"{API}/hosts/h2/maintenance", json={"reason": "disk swap"})
    assert r.status_code == 200, r.text
    # Writes go on while the backup is taken: the copy must still be consistent.
    stop = threading.Event()

    def keep_writing() -> None:
        while not stop.is_set():
            old.login("viewer")

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        archive = tmp_path / "ovtui.tar.gz"
        code, out = _verify(["backup", "--store-dir", str(old.store_dir), str(archive)], capsys)
    finally:
        stop.set()
        writer.join()
    assert code == 0, out
    assert "audit trail up to seq" in out
    before = _operator_view(old)
    backed_up = read_backup(archive)[0]["audit_seq"]
    old_trail = old.audit_records()
    old.stop()

    config = fleet_config(standard_spec())
    code, out = _verify(
        ["restore", "--store-dir", str(config.engine.store_dir), str(archive)], capsys
    )
    assert code == 0, out
    code, out = _verify(
        ["audit", "verify", "--file", str(config.engine.store_dir / "audit.jsonl")], capsys
    )
    assert code == 0 and "intact" in out, out

    new = start_engine(config=config)
    after = _operator_view(new)
    assert after == before
    assert any(g.get("user") == "frank" for g in after["grants"])
    assert [h["maintenance"] for h in after["hosts"]] == [False, True, False]
    trail = new.audit_records()
    # The restored trail is the old one up to the backup, then the new engine's records.
    assert trail[:backed_up] == old_trail[:backed_up]
    assert not any(r["action"] == "audit.damaged" for r in trail)
    new.stop()
    code, out = _verify(["audit", "verify", "--file", str(new.audit_path)], capsys)
    assert code == 0 and "its end matches its anchor" in out, out


def test_restore_refuses_a_directory_with_state_and_leaves_it_alone(
    start_engine: Any, tmp_path: Path
) -> None:
    live = start_engine()
    archive = take_backup(live.store_dir, tmp_path / "b.tar.gz").path
    with pytest.raises(StoreError, match="in use by another ovtui process"):
        restore_backup(archive, live.store_dir)
    live.stop()
    state = (live.store_dir / "state.json").read_bytes()
    with pytest.raises(StoreError, match="already holds ovtui state"):
        restore_backup(archive, live.store_dir)
    assert (live.store_dir / "state.json").read_bytes() == state


def _rewrite_manifest(archive: Path, out: Path, change: dict[str, Any]) -> Path:
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    with tarfile.open(out, "w:gz") as tar:
        for member, data in members:
            if member.name == MANIFEST:
                data = json.dumps({**json.loads(data), **change}).encode()
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return out


def test_a_backup_from_a_newer_ovtui_is_refused_with_what_to_do(
    start_engine: Any, tmp_path: Path
) -> None:
    live = start_engine()
    archive = take_backup(live.store_dir, tmp_path / "b.tar.gz").path
    newer = _rewrite_manifest(archive, tmp_path / "newer.tar.gz", {"schema_version": 99})
    target = tmp_path / "fresh"
    with pytest.raises(StoreError, match=r"schema 99, this ovtui .* knows up to 1: install"):
        restore_backup(newer, target)
    assert not (target / "state.json").exists()


def test_a_damaged_backup_is_refused_before_anything_is_written(
    start_engine: Any, tmp_path: Path
) -> None:
    live = start_engine()
    live.login("viewer")
    archive = take_backup(live.store_dir, tmp_path / "b.tar.gz").path
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(damaged, "w:gz") as tar:
        for member, data in members:
            if member.name == "audit.jsonl":
                data = data.replace(b'"viewer"', b'"nobody"', 1)
            tar.addfile(member, io.BytesIO(data))
    target = tmp_path / "fresh"
    with pytest.raises(StoreError, match=r"audit\.jsonl does not match its checksum"):
        restore_backup(damaged, target)
    assert not any(target.glob("*.json*"))


def test_backup_of_a_postgresql_engine_says_to_use_the_databases_tools(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ovtui.toml"
    config.write_text('[engine]\npostgresql = "host=db1 dbname=ovtui"\n')
    assert main(["backup", "--config", str(config), str(tmp_path / "b.tar.gz")]) == 2
    assert "back it up with the database's tools (pg_dump" in capsys.readouterr().err
    assert not (tmp_path / "b.tar.gz").exists()
