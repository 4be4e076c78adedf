"""Append-only JSON lines (events, migration history, audit): appends stay O(1) at any length."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from ovtui.store.atomic_file import fsync_directory
from ovtui.store.errors import StoreError
from ovtui.store.jsonl_lines import first_line_after, last_newline, lines_backward, lines_forward

log = logging.getLogger(__name__)

Record = dict[str, Any]
MAX_UNREADABLE_END = 64  # more complete non-record lines than this at the end: not our log
CUT_KEPT = 64 * 1024  # how much of a cut torn line `cut` keeps, for the owner to record


class JsonlLog:
    """One JSON object per line, each with a strictly increasing `seq` and an ISO-8601 UTC `ts`.

    Appends are thread-safe. Each record is one write() on an O_APPEND descriptor, so a killed
    writer can leave at most a torn last line, which the next open cuts away (`cut` and
    `cut_bytes` say what was cut; `unreadable_end` counts complete lines at the end that are
    not records, which are kept). `fsync=True` makes each append durable before it returns
    (the audit trail wants that; events do not).
    """

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self._fsync = fsync
        self.cut, self.cut_bytes, self.unreadable_end = b"", 0, 0
        self._lock = threading.Lock()
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        created = not self.path.exists()
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            if created and fsync:
                fsync_directory(self.path.parent)
            self._end, self._last_seq = self._recover(self._fd)
        except BaseException:
            self.close()
            raise

    @property
    def last_seq(self) -> int:
        """The seq of the newest record, 0 for an empty log."""
        return self._last_seq

    def append(self, record: Mapping[str, Any]) -> Record:
        """Write `record` with `seq` and `ts` added (a given `ts` is kept) and return it."""
        with self._lock:
            fd = self._open_fd()
            seq = record.get("seq", self._last_seq + 1)
            if not _is_int(seq) or seq <= self._last_seq:
                raise ValueError(f"seq {seq!r} does not follow {self._last_seq} in {self.path}")
            rest = {k: v for k, v in record.items() if k not in ("seq", "ts")}
            stamped = {"seq": seq, "ts": record.get("ts") or _now(), **rest}
            line = (json.dumps(stamped, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
            self._write_line(fd, line)
            self._last_seq = seq
        return stamped

    def tail(self, n: int) -> list[Record]:
        """The last `n` records, oldest first; reads O(n) lines from the end."""
        if n <= 0:
            return []
        found: list[Record] = []
        with self._reader() as (fd, end):
            for offset, line in lines_backward(fd, end):
                record = self._parse(line, offset)
                if record is not None:
                    found.append(record)
                    if len(found) == n:
                        break
        found.reverse()
        return found

    def read(
        self,
        since_seq: int | None = None,
        limit: int = 1000,
        predicate: Callable[[Record], bool] | None = None,
    ) -> list[Record]:
        """Up to `limit` records with seq > `since_seq` (all if None) that match `predicate`.

        Finding `since_seq` bisects the file, so polling for news stays cheap on a long log.
        """
        out: list[Record] = []
        if limit <= 0:
            return out
        with self._reader() as (fd, end):
            start = 0 if since_seq is None else first_line_after(fd, end, since_seq, _seq_of)
            for offset, line in lines_forward(fd, start, end):
                record = self._parse(line, offset)
                if record is None or (since_seq is not None and record["seq"] <= since_seq):
                    continue
                if predicate is None or predicate(record):
                    out.append(record)
                    if len(out) == limit:
                        break
        return out

    def __iter__(self) -> Iterator[Record]:
        with self._reader() as (fd, end):
            for offset, line in lines_forward(fd, 0, end):
                record = self._parse(line, offset)
                if record is not None:
                    yield record

    def reopen(self) -> bool:
        """Start a new file if log rotation moved this one away; True if it did.

        Numbering goes on from the moved file (readers asking for seq > N still get news), so
        a rotated log is the same stream continued in a new file.
        """
        with self._lock:
            fd = self._open_fd()
            try:
                if os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    return False
            except FileNotFoundError:
                pass
            new = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                end, last_seq = self._recover(new)
            except BaseException:
                os.close(new)
                raise
            os.close(fd)
            self._fd, self._end = new, end
            self._last_seq = max(self._last_seq, last_seq)
            return True

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> JsonlLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _open_fd(self) -> int:
        if self._fd is None:
            raise ValueError(f"{self.path} is closed")
        return self._fd

    def _write_line(self, fd: int, line: bytes) -> None:
        try:
            # A raw descriptor has no user-space buffer: once write() returns, the kernel has it.
            written = os.write(fd, line)
            # A regular file writes short only when the disk fills up; finish or undo below.
            while written < len(line):
                written += os.write(fd, line[written:])
            if self._fsync:
                os.fsync(fd)
        except BaseException:
            # Never leave a partial line that the next record would be glued onto.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self._end)
            raise
        self._end += len(line)

    @contextlib.contextmanager
    def _reader(self) -> Iterator[tuple[int, int]]:
        # Our own descriptor: a close() meanwhile cannot pull the append descriptor from under us.
        with self._lock:
            self._open_fd()
            end = self._end  # appends happen under the lock, so this is a line boundary
            fd = os.open(self.path, os.O_RDONLY)
        try:
            yield fd, end
        finally:
            os.close(fd)

    def _parse(self, line: bytes, offset: int) -> Record | None:
        record = _record_of(line)
        if record is None:
            log.warning("%s: skipping an unreadable line at byte %d", self.path, offset)
        return record

    def _recover(self, fd: int) -> tuple[int, int]:
        """Find the last seq, reading backwards from the end, and cut away a torn last line.

        Only an unterminated last line is cut: each record is one write() ending in a newline,
        so only a writer killed mid-write leaves one. A complete line that is not a record is
        damage or an edit, never a crash: it is kept for inspection (readers step over it) and
        counted in `unreadable_end`, so the owner can raise the alarm (the audit trail does).
        """
        size = os.fstat(fd).st_size
        end = size
        if end and os.pread(fd, 1, end - 1) != b"\n":
            end = last_newline(fd, end) + 1  # a kill mid-write: the line has no newline yet
        if end < size:
            self.cut = os.pread(fd, min(size - end, CUT_KEPT), end)
            self.cut_bytes = size - end
            log.warning(
                "%s: cut %d bytes of a torn last line (a writer was interrupted mid-write)",
                self.path,
                size - end,
            )
            os.ftruncate(fd, end)
            if self._fsync:
                os.fsync(fd)
        last_seq = 0
        for _offset, line in lines_backward(fd, end):
            seq = _seq_of(line)
            if seq is not None:
                last_seq = seq
                break
            self.unreadable_end += 1
            if self.unreadable_end > MAX_UNREADABLE_END:
                raise StoreError(
                    f"{self.path}: its last {MAX_UNREADABLE_END} lines are not ovtui log "
                    "records, so it is not an ovtui log or it is badly damaged. Move it aside "
                    "(ovtui starts a new log) and keep it for inspection.",
                    path=self.path,
                )
        if self.unreadable_end:
            log.warning(
                "%s: its last %d complete line(s) are not records (edited or damaged): kept "
                "for inspection; appends continue after seq %d",
                self.path,
                self.unreadable_end,
                last_seq,
            )
        return end, last_seq


def _record_of(line: bytes) -> Record | None:
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if isinstance(record, dict) and _is_int(record.get("seq")):
        return record
    return None


def _seq_of(line: bytes) -> int | None:
    record = _record_of(line)
    return None if record is None else int(record["seq"])


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
