"""TinyDB storage for one writer: reads come from memory, writes replace the file atomically."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from ovtui.store.atomic_file import atomic_write_bytes, remove_stale_temps
from ovtui.store.errors import StoreError

log = logging.getLogger(__name__)

Tables = dict[str, dict[str, Any]]


class AtomicJSONStorage(Storage):
    """The engine is the only writer, so the file is read once and memory is the truth after that.

    A crash at any instant leaves either the previous or the new complete file on disk, never a
    mix: each write goes to a temp file that is fsynced and then renamed over the target.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._write_lock = threading.Lock()
        self._batch_depth = 0
        self._batch_dirty = False
        for stale in remove_stale_temps(self.path):
            log.warning("removed %s left by an interrupted write", stale)
        self._data: Tables | None = self._load()
        self._closed = False

    def read(self) -> Tables | None:
        # TinyDB mutates what it reads and hands the same object to write(); see write().
        return self._data

    def write(self, data: Tables) -> None:
        with self._write_lock:
            if self._closed:
                raise ValueError(f"write to {self.path} after the store was closed")
            self._data = data
            if self._batch_depth:
                self._batch_dirty = True
                return
            self._flush()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hold writes in memory and put them on disk as one atomic write at the end.

        If the block raises, its changes are discarded and memory is reloaded from the file.
        """
        with self._write_lock:
            self._batch_depth += 1
        try:
            yield
        except BaseException:
            with self._write_lock:
                self._batch_depth -= 1
                if self._batch_depth == 0 and self._batch_dirty:
                    self._batch_dirty = False
                    self._data = self._load()
            raise
        with self._write_lock:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._batch_dirty:
                self._batch_dirty = False
                self._flush()

    def close(self) -> None:
        with self._write_lock:
            self._closed = True

    def _flush(self) -> None:
        assert self._data is not None
        try:
            payload = json.dumps(self._data, ensure_ascii=False, separators=(",", ":"))
            atomic_write_bytes(self.path, payload.encode())
        except BaseException:
            # TinyDB already changed the in-memory tables; go back to what the disk holds so
            # memory never claims a change that was not stored.
            self._data = self._load()
            raise

    def _load(self) -> Tables | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            problem = f"it is not UTF-8 text (byte {exc.start})"
            raise StoreError(_corrupt_message(self.path, problem), path=self.path) from exc
        except json.JSONDecodeError as exc:
            problem = f"it is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
            raise StoreError(_corrupt_message(self.path, problem), path=self.path) from exc
        if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
            raise StoreError(
                _corrupt_message(self.path, "it holds JSON but not an object of tables"),
                path=self.path,
            )
        return data


def _corrupt_message(path: Path, problem: str) -> str:
    return (
        f"cannot read ovtui state {path}: {problem}. ovtui replaces this file atomically, so it "
        "was damaged from outside (disk error, manual edit, partial copy). It was left untouched: "
        "stop the engine and restore it from your backup, or move it aside to start with empty "
        "operator state (settings, host maintenance flags and VM settings will be lost)."
    )
