"""Operator state (settings, host and VM flags) in one TinyDB file owned by the engine."""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Hashable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from tinydb import TinyDB, where
from tinydb.table import Document, Table

from ovtui.store.atomic_storage import AtomicJSONStorage
from ovtui.store.dir_lock import DirLock
from ovtui.store.locked_table import LockedTable
from ovtui.store.migrations import MIGRATIONS, Migration
from ovtui.store.pg_storage import PgStorage
from ovtui.store.schema import bring_up_to_date, read_version

if TYPE_CHECKING:
    from ovtui.store.pg_database import PgDatabase

STATE_FILE = "state.json"


class _UncachedTinyDB(TinyDB):
    # TinyDB's per-table query cache can outlive a discarded batch; reads come from memory anyway.
    def table(self, name: str, **kwargs: Any) -> Table:
        kwargs.setdefault("cache_size", 0)
        return super().table(name, **kwargs)


class Store:
    """Thread-safe: every call holds one RLock, because TinyDB is not thread-safe itself."""

    def __init__(
        self, db: TinyDB, storage: AtomicJSONStorage | PgStorage, dir_lock: DirLock | None
    ) -> None:
        self._db, self._storage, self._dir_lock = db, storage, dir_lock
        self._lock = threading.RLock()
        # (table, key) -> {value: the first record with it}: host_state is asked for at every
        # rebuild of a host (each poll, twice), and TinyDB's get() scans every record of the
        # table, so a fleet's polls grew with the square of its hosts. Dropped at every write;
        # a table handed out by table() (writable there) is never indexed.
        self._indexes: dict[tuple[str, str], dict[Any, Document]] = {}
        self._handed_out: set[str] = set()

    @classmethod
    def open(cls, directory: Path, *, migrations: Mapping[int, Migration] = MIGRATIONS) -> Store:
        """Open (or create) the store in `directory`; raises StoreError if it cannot be used."""
        directory = Path(directory)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        dir_lock = DirLock(directory)
        dir_lock.acquire()
        try:
            db = _UncachedTinyDB(directory / STATE_FILE, storage=AtomicJSONStorage)
            try:
                bring_up_to_date(db, migrations)
            except BaseException:
                db.close()
                raise
        except BaseException:
            dir_lock.release()
            raise
        storage = db.storage
        assert isinstance(storage, AtomicJSONStorage)
        return cls(db, storage, dir_lock)

    @classmethod
    def open_postgres(
        cls, database: PgDatabase, *, migrations: Mapping[int, Migration] = MIGRATIONS
    ) -> Store:
        """The same store on PostgreSQL (the caller leads: see PgDatabase.try_lead)."""
        storage = PgStorage(database)
        db = _UncachedTinyDB(storage=lambda: storage)
        try:
            bring_up_to_date(db, migrations)
        except BaseException:
            db.close()
            raise
        return cls(db, storage, None)

    @property
    def path(self) -> Path:
        return self._storage.path

    @property
    def schema_version(self) -> int:
        with self._lock:
            version = read_version(self._db)
        assert version is not None  # open() stamps every store
        return version

    def get_setting(self, key: str, default: Any = None) -> Any:
        with self._lock:
            doc = self._db.table("settings").get(where("key") == key)
        return default if doc is None else copy.deepcopy(doc["value"])

    def set_setting(self, key: str, value: Any) -> None:
        with self._lock:
            self._indexes.clear()
            self._db.table("settings").upsert({"key": key, "value": value}, where("key") == key)

    def host_state(self, name: str) -> dict[str, Any]:
        """The operator's state for a host, e.g. {"name": "h1", "maintenance": True}; {} if none."""
        return self._get("hosts", "name", name)

    def set_host_state(self, name: str, /, **fields: Any) -> None:
        """Merge `fields` into the host's state; fields not named keep their value."""
        self._merge("hosts", "name", name, fields)

    def vm_settings(self, uuid: str) -> dict[str, Any]:
        """The operator's flags for a VM, e.g. {"uuid": "...", "pinned": True}; {} if none."""
        return self._get("vm_settings", "uuid", uuid)

    def set_vm_settings(self, uuid: str, /, **fields: Any) -> None:
        self._merge("vm_settings", "uuid", uuid, fields)

    def table(self, name: str) -> LockedTable:
        """Any other table, with every call under the store's lock."""
        with self._lock:
            self._handed_out.add(name)
            for indexed in [k for k in self._indexes if k[0] == name]:
                del self._indexes[indexed]
        return LockedTable(self._db.table(name), self._lock)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Make several writes one atomic file write; an exception discards them all."""
        with self._lock:
            try:
                with self._storage.batch():
                    yield
            finally:  # discarded writes: memory was reloaded from the file
                self._indexes.clear()

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._dir_lock is not None:
                self._dir_lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _get(self, table: str, key: str, value: str) -> dict[str, Any]:
        with self._lock:
            doc = self._indexed(table, key).get(value)
        # A deep copy: nested values handed out must not alias the in-memory state.
        return {} if doc is None else copy.deepcopy(dict(doc))

    def _merge(self, table: str, key: str, value: str, fields: dict[str, Any]) -> None:
        if key in fields:
            raise ValueError(f"{key!r} identifies the record and cannot be set as a field")
        with self._lock:
            self._indexes.clear()
            self._db.table(table).upsert({key: value, **fields}, where(key) == value)

    def _indexed(self, table: str, key: str) -> Mapping[Any, Document]:
        """The table's records by `key`, the first one of each value (as TinyDB's get())."""
        found = self._indexes.get((table, key))
        if found is None:
            found = {}
            for doc in self._db.table(table).all():
                value = doc.get(key)
                if isinstance(value, Hashable):
                    found.setdefault(value, doc)
            if table not in self._handed_out:
                self._indexes[(table, key)] = found
        return found
