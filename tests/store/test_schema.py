"""Schema versions: fresh stores start at the newest, older ones upgrade once, newer are refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tinydb import TinyDB, where

from ovtui.store import Store, StoreError
from ovtui.store.migrations import MIGRATIONS, Migration, latest_version


def _recording(calls: list[int], version: int) -> Migration:
    def step(db: TinyDB) -> None:
        calls.append(version)
        # A real-looking step: each one leaves a mark the next one depends on.
        settings = db.table("settings")
        trail = settings.get(where("key") == "trail")
        value = (trail["value"] if trail else []) + [version]
        settings.upsert({"key": "trail", "value": value}, where("key") == "trail")

    return step


def _make_store_at_version_1(directory: Path) -> None:
    with Store.open(directory, migrations={}) as store:
        assert store.schema_version == 1
        store.set_setting("keep", "me")


def test_the_shipped_migrations_are_numbered_from_2() -> None:
    assert latest_version(MIGRATIONS) == 1 + len(MIGRATIONS)


def test_migrations_run_in_order_and_only_once(tmp_path: Path) -> None:
    _make_store_at_version_1(tmp_path)
    v1_bytes = (tmp_path / "state.json").read_bytes()
    calls: list[int] = []
    migrations = {3: _recording(calls, 3), 2: _recording(calls, 2), 4: _recording(calls, 4)}

    with Store.open(tmp_path, migrations=migrations) as store:
        assert calls == [2, 3, 4]
        assert store.schema_version == 4
        assert store.get_setting("trail") == [2, 3, 4]
        assert store.get_setting("keep") == "me"
    # The pre-upgrade copy is what an operator restores when going back to the old ovtui.
    assert (tmp_path / "state.json.schema-1.bak").read_bytes() == v1_bytes

    with Store.open(tmp_path, migrations=migrations) as store:
        assert calls == [2, 3, 4]
        assert store.schema_version == 4


def test_only_the_missing_steps_run(tmp_path: Path) -> None:
    calls: list[int] = []
    _make_store_at_version_1(tmp_path)
    Store.open(tmp_path, migrations={2: _recording(calls, 2)}).close()
    more = {2: _recording(calls, 2), 3: _recording(calls, 3)}
    with Store.open(tmp_path, migrations=more) as store:
        assert store.schema_version == 3
    assert calls == [2, 3]


def test_a_fresh_store_starts_at_the_newest_version_without_migrating(tmp_path: Path) -> None:
    calls: list[int] = []
    with Store.open(tmp_path, migrations={2: _recording(calls, 2)}) as store:
        assert store.schema_version == 2
    assert calls == []


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    _make_store_at_version_1(tmp_path)
    with Store.open(tmp_path, migrations={}) as store:
        meta = store.table("_meta")
        meta.update({"schema_version": 7})
    with pytest.raises(StoreError) as raised:
        Store.open(tmp_path, migrations={2: _recording([], 2), 3: _recording([], 3)})
    assert str(raised.value) == (
        f"{tmp_path / 'state.json'} has schema 7, this ovtui knows up to 3: "
        "upgrade ovtui or restore a backup"
    )
    Store.open(tmp_path, migrations={i: _recording([], i) for i in range(2, 8)}).close()


def test_a_newer_schema_names_the_backup_left_by_the_upgrade(tmp_path: Path) -> None:
    _make_store_at_version_1(tmp_path)
    Store.open(tmp_path, migrations={2: _recording([], 2)}).close()
    with pytest.raises(StoreError) as raised:
        Store.open(tmp_path, migrations={})
    message = str(raised.value)
    assert "has schema 2, this ovtui knows up to 1" in message
    assert str(tmp_path / "state.json.schema-1.bak") in message


def test_a_failing_step_leaves_the_file_at_the_previous_schema(tmp_path: Path) -> None:
    _make_store_at_version_1(tmp_path)
    calls: list[int] = []

    def half_done(db: TinyDB) -> None:
        db.table("settings").truncate()  # would lose data if it reached the disk alone
        raise KeyError("hosts")

    with pytest.raises(StoreError) as raised:
        Store.open(tmp_path, migrations={2: _recording(calls, 2), 3: half_done})
    message = str(raised.value)
    assert "from schema 2 to 3 failed" in message
    assert "still at schema 2" in message
    assert str(tmp_path / "state.json.schema-1.bak") in message

    on_disk = json.loads((tmp_path / "state.json").read_text())
    assert on_disk["_meta"]["1"] == {"schema_version": 2}
    assert {doc["key"] for doc in on_disk["settings"].values()} == {"keep", "trail"}
    with Store.open(tmp_path, migrations={2: _recording(calls, 2)}) as store:  # lock released
        assert store.get_setting("keep") == "me"


def test_a_file_without_a_schema_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"settings": {"1": {"key": "k", "value": 1}}}')
    with pytest.raises(StoreError, match="no schema version"):
        Store.open(tmp_path)


@pytest.mark.parametrize("numbers", [[3], [2, 4], [1, 2]])
def test_misnumbered_migrations_are_a_programming_error(tmp_path: Path, numbers: list[int]) -> None:
    noop: Callable[[TinyDB], None] = lambda db: None  # noqa: E731
    with pytest.raises(ValueError, match="must be numbered"):
        Store.open(tmp_path, migrations=dict.fromkeys(numbers, noop))
    Store.open(tmp_path).close()  # the failed open released the directory
