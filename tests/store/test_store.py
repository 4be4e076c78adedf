"""Store: operator state that survives restarts and concurrent callers."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pytest

from ovtui.store import Store, StoreError
from ovtui.store.atomic_file import atomic_write_bytes
from ovtui.store.migrations import MIGRATIONS, latest_version


def test_fresh_store_is_stamped_with_the_newest_schema(tmp_path: Path) -> None:
    directory = tmp_path / "var" / "ovtui"
    with Store.open(directory) as store:
        assert store.schema_version == latest_version(MIGRATIONS)
        assert store.path == directory / "state.json"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    on_disk = json.loads((directory / "state.json").read_text())
    assert on_disk["_meta"] == {"1": {"schema_version": latest_version(MIGRATIONS)}}


def test_state_persists_across_reopen(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.set_setting("balance.threshold", 0.8)
        store.set_setting("balance.threshold", 0.75)
        store.set_host_state("h1", maintenance=True, reason="disk swap")
        store.set_host_state("h1", reason="disk swap, ticket 42")
        store.set_vm_settings("0b5e-uuid", pinned=True, ha_priority=3)

    with Store.open(tmp_path) as store:
        assert store.get_setting("balance.threshold") == 0.75
        assert store.get_setting("missing") is None
        assert store.get_setting("missing", "fallback") == "fallback"
        assert store.host_state("h1") == {
            "name": "h1",
            "maintenance": True,
            "reason": "disk swap, ticket 42",
        }
        assert store.host_state("h2") == {}
        assert store.vm_settings("0b5e-uuid") == {
            "uuid": "0b5e-uuid",
            "pinned": True,
            "ha_priority": 3,
        }
        assert store.vm_settings("other") == {}
        assert len(store.table("settings").all()) == 1  # upsert, not a second record


def test_returned_values_do_not_alias_the_stored_state(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.set_setting("hosts.order", ["h1", "h2"])
        store.set_host_state("h1", tags=["gpu"])
        store.get_setting("hosts.order").append("h3")
        store.host_state("h1")["tags"].append("ssd")
        assert store.get_setting("hosts.order") == ["h1", "h2"]
        assert store.host_state("h1")["tags"] == ["gpu"]


def test_the_key_field_cannot_be_overwritten(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        with pytest.raises(ValueError, match="identifies the record"):
            store.set_host_state("h1", **{"name": "h2"})
        with pytest.raises(ValueError, match="identifies the record"):
            store.set_vm_settings("u1", **{"uuid": "u2"})


def test_a_value_json_cannot_hold_changes_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.set_host_state("h1", maintenance=False)
        with pytest.raises(TypeError):
            store.set_host_state("h1", maintenance=True, since=object())
        assert store.host_state("h1") == {"name": "h1", "maintenance": False}
        store.set_host_state("h1", maintenance=True)
    with Store.open(tmp_path) as store:
        assert store.host_state("h1") == {"name": "h1", "maintenance": True}


def test_other_tables_go_through_the_store_lock(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        jobs = store.table("jobs")
        assert jobs.name == "jobs"
        jobs.insert({"id": "balance", "enabled": True})
        assert [dict(doc) for doc in jobs] == [{"id": "balance", "enabled": True}]
        assert len(jobs) == 1
    with Store.open(tmp_path) as store:
        assert store.table("jobs").all() == [{"id": "balance", "enabled": True}]


def test_transaction_is_one_atomic_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[bytes] = []

    def counting(path: Path, data: bytes) -> None:
        writes.append(data)
        atomic_write_bytes(path, data)

    with Store.open(tmp_path) as store:
        monkeypatch.setattr("ovtui.store.atomic_storage.atomic_write_bytes", counting)
        with store.transaction():
            store.set_host_state("h1", maintenance=True)
            store.set_setting("evacuating", "h1")
        assert len(writes) == 1

        with pytest.raises(RuntimeError), store.transaction():
            store.set_host_state("h2", maintenance=True)
            raise RuntimeError("evacuation plan rejected")
        assert len(writes) == 1
        assert store.host_state("h2") == {}
    with Store.open(tmp_path) as store:
        assert store.host_state("h1")["maintenance"] is True
        assert store.get_setting("evacuating") == "h1"
        assert store.host_state("h2") == {}


def test_a_second_opener_of_the_directory_is_refused(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    with pytest.raises(StoreError) as raised:
        Store.open(tmp_path)
    message = str(raised.value)
    assert str(tmp_path) in message
    assert "in use by another ovtui process" in message
    store.close()
    store.close()  # idempotent
    Store.open(tmp_path).close()


def test_writes_after_close_are_refused(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.close()
    with pytest.raises(ValueError, match="closed"):
        store.set_setting("k", 1)


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    threads, writes_each = 6, 20
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    with Store.open(tmp_path) as store:

        def writer(t: int) -> None:
            try:
                start.wait()
                for i in range(writes_each):
                    store.set_setting(f"t{t}.i{i}", i)
                    # The same record from every thread: a lost merge would drop a field.
                    store.set_host_state("shared", **{f"t{t}": i})
                    store.set_vm_settings(f"vm-{t}", generation=i)
            except BaseException as exc:
                errors.append(exc)

        workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert errors == []

    with Store.open(tmp_path) as store:
        for t in range(threads):
            for i in range(writes_each):
                assert store.get_setting(f"t{t}.i{i}") == i
            assert store.vm_settings(f"vm-{t}") == {
                "uuid": f"vm-{t}",
                "generation": writes_each - 1,
            }
        expected = {"name": "shared"} | {f"t{t}": writes_each - 1 for t in range(threads)}
        assert store.host_state("shared") == expected
