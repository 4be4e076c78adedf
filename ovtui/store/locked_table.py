"""A TinyDB table whose every call holds the store's lock, for tables the Store has no API for."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

from tinydb.table import Document, Table


class LockedTable:
    """Forwards to a tinydb Table; TinyDB itself is not thread-safe."""

    def __init__(self, table: Table, lock: threading.RLock) -> None:
        self._table = table
        self._lock = lock

    @property
    def name(self) -> str:
        return self._table.name

    def __len__(self) -> int:
        with self._lock:
            return len(self._table)

    def __iter__(self) -> Iterator[Document]:
        with self._lock:
            return iter(self._table.all())

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self._table, attr)
        if not callable(target):
            return target
        return self._locked(target)

    def _locked(self, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return method(*args, **kwargs)

        return call
