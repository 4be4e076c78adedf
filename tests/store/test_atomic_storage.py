"""AtomicJSONStorage: what is on disk is always a complete JSON file that memory agrees with."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from tinydb import TinyDB

from ovtui.store import AtomicJSONStorage, StoreError
from ovtui.store.atomic_file import atomic_write_bytes


def test_round_trip_leaves_only_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    storage = AtomicJSONStorage(path)
    assert storage.read() is None
    data = {"settings": {"1": {"key": "motd", "value": ["héllo", 1, None]}}}
    storage.write(data)
    assert json.loads(path.read_text()) == data
    assert AtomicJSONStorage(path).read() == data
    assert sorted(tmp_path.iterdir()) == [path]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_empty_file_reads_as_new(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("\n")
    assert AtomicJSONStorage(path).read() is None


def test_works_under_tinydb(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        db.table("hosts").insert({"name": "h1", "maintenance": True})
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        assert db.table("hosts").all() == [{"name": "h1", "maintenance": True}]


def test_stale_temp_files_are_removed_at_open(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text('{"settings": {}}')
    stale = [tmp_path / "state.json.tmp-4242", tmp_path / "state.json.tmp-1"]
    for leftover in stale:
        leftover.write_text('{"settings": {"1": {"key"')
    unrelated = tmp_path / "other.json.tmp-4242"
    unrelated.write_text("{}")

    AtomicJSONStorage(path)

    assert not any(leftover.exists() for leftover in stale)
    assert unrelated.exists()
    assert path.read_text() == '{"settings": {}}'


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"settings": {"1": {"key": ', "not valid JSON (Expecting value at line 1 column 28)"),
        (b"\xff\xfe\x00garbage", "not UTF-8 text"),
        (b"[1, 2, 3]", "not an object of tables"),
        (b'{"settings": []}', "not an object of tables"),
    ],
)
def test_unreadable_file_raises_a_store_error_that_says_what_to_do(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(StoreError) as raised:
        AtomicJSONStorage(path)
    message = str(raised.value)
    assert str(path) in message  # which file
    assert problem in message  # what is wrong
    assert "restore it from your backup" in message  # what to do
    assert "move it aside" in message
    assert raised.value.path == path
    assert path.read_bytes() == content  # and nothing was "repaired" behind the operator's back


def test_write_fsyncs_the_file_then_renames_then_fsyncs_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = AtomicJSONStorage(tmp_path / "state.json")
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def spy_fsync(fd: int) -> None:
        kind = "directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(f"fsync {kind}")
        real_fsync(fd)

    def spy_replace(src: str | Path, dst: str | Path) -> None:
        events.append(f"replace {Path(src).name} -> {Path(dst).name}")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", spy_fsync)
    monkeypatch.setattr(os, "replace", spy_replace)
    storage.write({"settings": {}})

    assert events == [
        "fsync file",
        f"replace state.json.tmp-{os.getpid()} -> state.json",
        "fsync directory",
    ]


def test_failed_serialisation_leaves_memory_as_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    storage = AtomicJSONStorage(path)
    storage.write({"t": {"1": {"v": 1}}})
    data = storage.read()
    assert data is not None
    data["t"]["1"]["v"] = object()  # TinyDB changes what read() returned, then calls write()
    with pytest.raises(TypeError):
        storage.write(data)
    assert storage.read() == {"t": {"1": {"v": 1}}}
    assert sorted(tmp_path.iterdir()) == [path]


def test_failed_rename_removes_the_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    storage = AtomicJSONStorage(path)
    storage.write({"t": {}})

    def no_space(src: str | Path, dst: str | Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OSError, match="No space"):
        storage.write({"t": {"1": {"v": 2}}})
    assert storage.read() == {"t": {}}
    assert sorted(tmp_path.iterdir()) == [path]


def test_batch_is_one_write_and_an_error_discards_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = AtomicJSONStorage(tmp_path / "state.json")
    writes: list[bytes] = []

    def counting(path: Path, data: bytes) -> None:
        writes.append(data)
        atomic_write_bytes(path, data)

    monkeypatch.setattr("ovtui.store.atomic_storage.atomic_write_bytes", counting)
    with storage.batch():
        storage.write({"a": {}})
        with storage.batch():
            storage.write({"a": {}, "b": {}})
        assert writes == []
    assert len(writes) == 1
    assert storage.read() == {"a": {}, "b": {}}

    with pytest.raises(RuntimeError), storage.batch():
        storage.write({"c": {}})
        raise RuntimeError("abandon")
    assert len(writes) == 1
    assert storage.read() == {"a": {}, "b": {}}


def test_write_after_close_is_refused(tmp_path: Path) -> None:
    storage = AtomicJSONStorage(tmp_path / "state.json")
    storage.close()
    with pytest.raises(ValueError, match="closed"):
        storage.write({})
