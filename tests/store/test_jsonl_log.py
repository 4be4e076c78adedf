"""JsonlLog: seq survives restarts, a torn tail is cut, and nothing reads the whole file."""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import threading
from pathlib import Path

import pytest

from ovtui.store import JsonlLog, StoreError
from ovtui.store.jsonl_log import MAX_UNREADABLE_END

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _lines(path: Path) -> list[dict[str, object]]:
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n")
    return [json.loads(line) for line in data.splitlines()]


def test_append_adds_seq_and_ts_and_writes_one_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with JsonlLog(path) as log:
        first = log.append({"kind": "host.down", "host": "h1"})
        second = log.append({"kind": "note", "ts": "2024-01-01T00:00:00.000Z", "text": "a\nb"})
        assert log.last_seq == 2
    assert first["seq"] == 1 and TS.match(first["ts"])
    assert list(first) == ["seq", "ts", "kind", "host"]
    assert second["seq"] == 2 and second["ts"] == "2024-01-01T00:00:00.000Z"
    assert _lines(path) == [first, second]
    assert (path.stat().st_mode & 0o777) == 0o600


def test_seq_continues_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with JsonlLog(path, fsync=True) as log:
        for i in range(3):
            log.append({"i": i})
    with JsonlLog(path, fsync=True) as log:
        assert log.last_seq == 3
        assert log.append({"i": 3})["seq"] == 4
    assert [r["seq"] for r in _lines(path)] == [1, 2, 3, 4]


def test_a_given_seq_must_follow_the_last(tmp_path: Path) -> None:
    with JsonlLog(tmp_path / "log.jsonl") as log:
        log.append({})
        assert log.append({"seq": 10})["seq"] == 10
        for bad in (10, 3, "11", True):
            with pytest.raises(ValueError, match="does not follow 10"):
                log.append({"seq": bad})
        assert log.append({})["seq"] == 11


def test_a_record_json_cannot_hold_consumes_no_seq(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    with JsonlLog(path) as log:
        with pytest.raises(TypeError):
            log.append({"obj": object()})
        assert log.append({})["seq"] == 1
    assert len(_lines(path)) == 1


@pytest.mark.parametrize(
    "tail",
    [b'{"seq": 4, "kind": "hos', b'{"seq": 4}', b"\x00\x00\x00\x00"],
    ids=["torn", "whole-record-no-newline", "zeros"],
)
def test_a_torn_last_line_is_cut_at_open(
    tmp_path: Path, tail: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "events.jsonl"
    with JsonlLog(path) as log:
        for i in range(3):
            log.append({"i": i})
    good = path.read_bytes()
    with path.open("ab") as f:
        f.write(tail)

    with caplog.at_level(logging.WARNING), JsonlLog(path) as log:
        assert path.read_bytes() == good
        assert (log.cut, log.cut_bytes, log.unreadable_end) == (tail, len(tail), 0)
        assert log.last_seq == 3
        assert log.append({"i": 3})["seq"] == 4
    assert "torn" in caplog.text and str(path) in caplog.text
    assert [r["seq"] for r in _lines(path)] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "tail", [b"garbage\n", b"\n", b'{"seq": 4, "i": 3}x\n'], ids=["garbage", "blank", "edited"]
)
def test_a_complete_unreadable_last_line_is_kept_never_cut(
    tmp_path: Path, tail: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    # Only a kill mid-write leaves a line without its newline; a complete line that does not
    # parse was edited or damaged, and cutting it would destroy the evidence.
    path = tmp_path / "events.jsonl"
    with JsonlLog(path) as log:
        for i in range(3):
            log.append({"i": i})
    with path.open("ab") as f:
        f.write(tail)
    damaged = path.read_bytes()

    with caplog.at_level(logging.WARNING), JsonlLog(path) as log:
        assert path.read_bytes() == damaged
        assert (log.cut_bytes, log.unreadable_end, log.last_seq) == (0, 1, 3)
        assert log.append({"i": 3})["seq"] == 4
        assert [r["seq"] for r in log] == [1, 2, 3, 4]
    assert "kept for inspection" in caplog.text and str(path) in caplog.text
    assert path.read_bytes().startswith(damaged)


def test_a_log_whose_last_lines_are_all_unreadable_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    content = b'{"seq": 1}\n' + b"not json\n" * (MAX_UNREADABLE_END + 1)
    path.write_bytes(content)
    with pytest.raises(StoreError) as raised:
        JsonlLog(path)
    assert str(path) in str(raised.value) and "Move it aside" in str(raised.value)
    assert path.read_bytes() == content


def test_tail_and_read(tmp_path: Path) -> None:
    with JsonlLog(tmp_path / "events.jsonl") as log:
        assert log.tail(5) == [] and log.read() == [] and list(log) == []
        for i in range(1, 101):
            log.append({"i": i, "pad": "x" * (i * 37 % 300)})

        assert [r["seq"] for r in log.tail(3)] == [98, 99, 100]
        assert len(log.tail(1000)) == 100
        assert log.tail(0) == []
        assert [r["seq"] for r in log.read(since_seq=37, limit=5)] == [38, 39, 40, 41, 42]
        assert [r["seq"] for r in log.read(limit=2)] == [1, 2]
        assert len(log.read()) == 100
        assert log.read(since_seq=100) == []
        assert [r["seq"] for r in log.read(since_seq=0, limit=1)] == [1]
        assert log.read(limit=0) == []
        tens = log.read(since_seq=15, limit=3, predicate=lambda r: r["i"] % 10 == 0)
        assert [r["i"] for r in tens] == [20, 30, 40]
        assert [r["seq"] for r in log] == list(range(1, 101))


def test_read_steps_over_a_damaged_line_in_the_middle(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "events.jsonl"
    with JsonlLog(path) as log:
        for i in range(5):
            log.append({"i": i})
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([*lines[:2], b"\x00\x00 damaged\n", *lines[2:]]))
    with caplog.at_level(logging.WARNING), JsonlLog(path) as log:
        assert [r["seq"] for r in log.read(since_seq=1)] == [2, 3, 4, 5]
        assert [r["seq"] for r in log] == [1, 2, 3, 4, 5]
        assert [r["seq"] for r in log.tail(4)] == [2, 3, 4, 5]
    assert "unreadable line" in caplog.text


class _ReadMeter:
    """Counts the bytes read through os.pread and forbids sequential os.read of the log."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bytes = 0
        real_pread = os.pread

        def counting_pread(fd: int, size: int, offset: int) -> bytes:
            data = real_pread(fd, size, offset)
            self.bytes += len(data)
            return data

        def no_sequential_reads(fd: int, size: int) -> bytes:
            raise AssertionError("read the file sequentially")

        monkeypatch.setattr(os, "pread", counting_pread)
        monkeypatch.setattr(os, "read", no_sequential_reads)

    def take(self) -> int:
        counted, self.bytes = self.bytes, 0
        return counted


def test_open_and_tail_read_only_the_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 4 MiB of junk json would choke on, then the records: open and tail must never get there.
    path = tmp_path / "events.jsonl"
    junk = b"\xff garbage, not a record \x00\n" * (4 * 1024 * 1024 // 28)
    records = b"".join(
        json.dumps({"seq": s, "ts": "t"}).encode() + b"\n" for s in range(5000, 5100)
    )
    path.write_bytes(junk + records)
    meter = _ReadMeter(monkeypatch)

    with JsonlLog(path) as log:
        assert log.last_seq == 5099
        assert meter.take() < 80 * 1024  # one block from the end
        assert [r["seq"] for r in log.tail(2)] == [5098, 5099]
        assert meter.take() < 80 * 1024  # one block from the end
        assert log.append({})["seq"] == 5100


def test_read_since_seq_bisects_instead_of_scanning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "events.jsonl"
    count = 40_000  # about 4 MiB
    pad = "p" * 60
    path.write_bytes(
        b"".join(json.dumps({"seq": s, "pad": pad}).encode() + b"\n" for s in range(1, count + 1))
    )
    meter = _ReadMeter(monkeypatch)
    with JsonlLog(path) as log:
        meter.take()
        assert [r["seq"] for r in log.read(since_seq=count - 2)] == [count - 1, count]
        assert meter.take() < 256 * 1024  # ~22 probes of 4 KiB, then one block
        assert [r["seq"] for r in log.read(since_seq=20_000, limit=3)] == [20_001, 20_002, 20_003]
        assert meter.take() < 256 * 1024


def test_concurrent_appends_get_distinct_ordered_seqs(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    threads, each = 4, 150
    with JsonlLog(path) as log:

        def writer(t: int) -> None:
            for i in range(each):
                log.append({"t": t, "i": i})

        workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    records = _lines(path)
    assert [r["seq"] for r in records] == list(range(1, threads * each + 1))
    for t in range(threads):
        assert [r["i"] for r in records if r["t"] == t] == list(range(each))


def test_fsync_option_syncs_every_append(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    with JsonlLog(tmp_path / "events.jsonl") as log:
        log.append({})
    assert synced == []
    with JsonlLog(tmp_path / "audit.jsonl", fsync=True) as log:
        synced.clear()
        log.append({})
        log.append({})
    assert len(synced) == 2


def test_a_failed_append_leaves_no_partial_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.jsonl"
    real_write = os.write
    with JsonlLog(path) as log:
        log.append({"i": 0})

        def disk_full(fd: int, data: bytes) -> int:
            real_write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "write", disk_full)
        with pytest.raises(OSError, match="No space"):
            log.append({"i": 1})
        monkeypatch.setattr(os, "write", real_write)
        assert log.append({"i": 2})["seq"] == 2
    assert [r["i"] for r in _lines(path)] == [0, 2]


def test_a_closed_log_refuses_work(tmp_path: Path) -> None:
    log = JsonlLog(tmp_path / "sub" / "events.jsonl")
    log.close()
    log.close()
    with pytest.raises(ValueError, match="closed"):
        log.append({})
    with pytest.raises(ValueError, match="closed"):
        log.tail(1)
