"""Where the schema version lives and how an opened state file is brought up to date."""

from __future__ import annotations

import glob
import logging
from collections.abc import Mapping
from pathlib import Path

from tinydb import TinyDB

from ovtui.store.atomic_file import atomic_write_bytes
from ovtui.store.atomic_storage import AtomicJSONStorage
from ovtui.store.errors import StoreError
from ovtui.store.migrations import Migration, latest_version
from ovtui.store.pg_storage import PgStorage

log = logging.getLogger(__name__)

META_TABLE = "_meta"


def read_version(db: TinyDB) -> int | None:
    docs = db.table(META_TABLE).all()
    if not docs:
        return None
    version = docs[0].get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise StoreError(
            f"{_path(db)} has an unreadable schema version {version!r} in table {META_TABLE}: "
            "restore the file from a backup",
            path=_path(db),
        )
    return version


def write_version(db: TinyDB, version: int) -> None:
    meta = db.table(META_TABLE)
    docs = meta.all()
    if docs:
        meta.update({"schema_version": version}, doc_ids=[docs[0].doc_id])
    else:
        meta.insert({"schema_version": version})


def backup_path(path: Path, version: int) -> Path:
    return path.with_name(f"{path.name}.schema-{version}.bak")


def bring_up_to_date(db: TinyDB, migrations: Mapping[int, Migration]) -> None:
    """Stamp a fresh store with the newest schema, or upgrade an older one step by step."""
    latest = latest_version(migrations)
    path = _path(db)
    version = read_version(db)
    if version is None:
        if any(db.table(name).all() for name in db.tables()):
            raise StoreError(
                f"{path} holds data but no schema version (table {META_TABLE}); it was not "
                "written by ovtui: move it aside or restore the right file",
                path=path,
            )
        write_version(db, latest)
        return
    if version > latest:
        message = (
            _too_new_message(path, version, latest)
            if isinstance(db.storage, AtomicJSONStorage)
            else f"{path} has schema {version}, this ovtui knows up to {latest}: upgrade ovtui "
            "(every engine on this database) or restore a backup"
        )
        raise StoreError(message, path=path)
    if version == latest:
        return
    storage = db.storage
    if isinstance(storage, PgStorage):
        backup_name = storage.save_copy(version)
    else:
        assert isinstance(storage, AtomicJSONStorage)
        backup = backup_path(path, version)
        atomic_write_bytes(backup, path.read_bytes())
        backup_name = str(backup)
    for target in range(version + 1, latest + 1):
        try:
            # One atomic write per step: a crash leaves schema target-1 or target, never a mix.
            with storage.batch():
                migrations[target](db)
                write_version(db, target)
        except Exception as exc:
            raise StoreError(
                f"upgrading {path} from schema {target - 1} to {target} failed ({exc}); the file "
                f"on disk is still at schema {target - 1} and a copy from before the upgrade is "
                f"{backup_name}. Report this as an ovtui bug and keep the previous ovtui "
                "meanwhile.",
                path=path,
            ) from exc
        log.info("upgraded %s to schema %d", path, target)


def _too_new_message(path: Path, version: int, latest: int) -> str:
    message = (
        f"{path} has schema {version}, this ovtui knows up to {latest}: "
        "upgrade ovtui or restore a backup"
    )
    usable = [v for v in _backup_versions(path) if v <= latest]
    if usable:
        backup = backup_path(path, max(usable))
        message += f" ({backup} was saved before an upgrade; it lacks every change made since)"
    return message


def _backup_versions(path: Path) -> list[int]:
    prefix, suffix = f"{path.name}.schema-", ".bak"
    versions = []
    for candidate in path.parent.glob(f"{glob.escape(prefix)}*{suffix}"):
        number = candidate.name[len(prefix) : -len(suffix)]
        if number.isdigit():
            versions.append(int(number))
    return versions


def _path(db: TinyDB) -> Path:
    storage = db.storage
    assert isinstance(storage, AtomicJSONStorage | PgStorage)
    return storage.path
