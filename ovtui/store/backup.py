"""A consistent copy of a state directory, taken while the engine writes to it, and its restore.

Why a copy is consistent without stopping the engine: state.json is only ever replaced whole
(temp file + rename), so one read gets one complete version; the JSON-lines logs only grow, so
their bytes up to the last newline are a complete prefix. The audit trail is cut exactly at the
record its anchor names (the anchor is read first and written after each append, so the trail
always holds that record), and a fresh anchor for that record goes into the backup: the restored
trail ends where its anchor says, and `ovtui audit verify` passes on it.

The archive is a tar.gz: manifest.json first (format, ovtui and schema versions, every file with
its size and sha256), then the files by name. Restore checks all of it before it writes anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auth.audit import verify_chain
from auth.audit_anchor import Anchor, anchor_problems
from ovtui import __version__
from ovtui.store.atomic_file import TEMP_MARK, atomic_write_bytes, fsync_directory
from ovtui.store.audit_anchor import SLOT, AnchorFile, _parse, _slot
from ovtui.store.database import STATE_FILE
from ovtui.store.dir_lock import LOCK_NAME, DirLock
from ovtui.store.errors import StoreError
from ovtui.store.migrations import MIGRATIONS, latest_version

FORMAT = "ovtui-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
AUDIT_FILE = "audit.jsonl"
ANCHOR_FILE = "audit.anchor"


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    files: dict[str, int]  # name -> bytes
    schema_version: int
    audit_seq: int


def take_backup(store_dir: Path, out: Path) -> BackupSummary:
    """Write a backup of `store_dir` to `out` (replaced atomically, mode 0600)."""
    store_dir = Path(store_dir)
    state_path = store_dir / STATE_FILE
    if not state_path.is_file():
        raise StoreError(
            f"{store_dir} holds no ovtui state ({STATE_FILE} missing): name the engine's "
            "store_dir (from its config, --config) or --store-dir",
            path=store_dir,
        )
    files: dict[str, bytes] = {}
    # Order matters: the state first, then the anchor, then the logs (which only grow after).
    files[STATE_FILE] = state_path.read_bytes()
    schema_version = _schema_of(files[STATE_FILE], state_path)
    anchor = AnchorFile(store_dir / ANCHOR_FILE).read()
    for path in sorted(store_dir.iterdir()):
        name = path.name
        if name in files or name in (LOCK_NAME, ANCHOR_FILE) or TEMP_MARK in name:
            continue
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if name.endswith(".jsonl"):
            data = data[: data.rfind(b"\n") + 1]  # a line being written now is not in the copy
        files[name] = data
    audit_seq = 0
    if AUDIT_FILE in files:
        trail = files[AUDIT_FILE]
        if anchor is not None:
            trail = _cut_at(trail, anchor.seq, store_dir / AUDIT_FILE)
            files[ANCHOR_FILE] = _anchor_bytes(anchor.seq, anchor.hash)
            audit_seq = anchor.seq
        files[AUDIT_FILE] = trail
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ovtui_version": __version__,
        "schema_version": schema_version,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source": str(store_dir),
        "audit_seq": audit_seq,
        "files": {
            n: {"size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in files.items()
        },
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        _add(tar, MANIFEST, json.dumps(manifest, indent=1).encode())
        for name, data in files.items():
            _add(tar, name, data)
    out = Path(out)
    atomic_write_bytes(out, buf.getvalue())
    return BackupSummary(out, {n: len(d) for n, d in files.items()}, schema_version, audit_seq)


def read_backup(archive: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and the files, every one checked; StoreError naming the problem."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            members = {m.name: m for m in tar.getmembers()}
            if MANIFEST not in members:
                raise _bad(archive, f"it has no {MANIFEST}")
            manifest = json.loads(_extract(tar, members[MANIFEST]))
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise _bad(archive, f"{MANIFEST} is not an {FORMAT} manifest")
            listed = manifest.get("files")
            if not isinstance(listed, dict):
                raise _bad(archive, f"{MANIFEST} lists no files")
            files: dict[str, bytes] = {}
            for name, info in listed.items():
                if "/" in name or name in ("", ".", "..") or name not in members:
                    raise _bad(archive, f"file {name!r} is missing or not a plain name")
                data = _extract(tar, members[name])
                if hashlib.sha256(data).hexdigest() != info.get("sha256"):
                    raise _bad(archive, f"{name} does not match its checksum")
                files[name] = data
    except (OSError, tarfile.TarError, json.JSONDecodeError, EOFError) as exc:
        raise _bad(archive, f"it cannot be read as a backup ({exc})") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise StoreError(
            f"{archive} is backup format {manifest.get('format_version')!r}; this ovtui "
            f"({__version__}) reads format {FORMAT_VERSION}: restore it with the ovtui that "
            "made it",
            path=archive,
        )
    return manifest, files


def restore_backup(archive: Path, store_dir: Path) -> dict[str, Any]:
    """Put the backup's files into `store_dir`, which must hold no state; returns the manifest.

    Nothing is written until the whole archive checked out; a failure midway removes what was
    written. New files get the owner of `store_dir` (restore runs as root, the engine as ovtui).
    """
    manifest, files = read_backup(archive)
    check_backup(archive, manifest, files)
    store_dir = Path(store_dir)
    store_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = DirLock(store_dir)
    lock.acquire()  # an engine running on the directory holds it
    try:
        present = [p.name for p in store_dir.iterdir() if p.name in files or p.name == STATE_FILE]
        if present:
            raise StoreError(
                f"{store_dir} already holds ovtui state ({', '.join(sorted(present))}): restore "
                "into an empty directory, or move these files aside first",
                path=store_dir,
            )
        owner = store_dir.stat()
        written: list[Path] = []
        try:
            for name, data in files.items():
                target = store_dir / name
                atomic_write_bytes(target, data)
                written.append(target)
                if os.geteuid() == 0:
                    os.chown(target, owner.st_uid, owner.st_gid)
            fsync_directory(store_dir)
        except BaseException:
            for target in written:
                with contextlib.suppress(OSError):
                    target.unlink()
            raise
    finally:
        lock.release()
    return manifest


def check_backup(archive: Path, manifest: dict[str, Any], files: dict[str, bytes]) -> None:
    """A schema this ovtui knows, and an audit trail that verifies against its anchor."""
    latest = latest_version(MIGRATIONS)
    schema = manifest.get("schema_version")
    if not isinstance(schema, int) or schema > latest:
        raise StoreError(
            f"{archive} holds state at schema {schema}, this ovtui ({__version__}) knows up to "
            f"{latest}: install the ovtui that made it ({manifest.get('ovtui_version')}) or newer",
            path=archive,
        )
    problems = _audit_problems(files)
    if problems:
        raise StoreError(
            f"{archive}: its audit trail does not verify ({'; '.join(problems[:3])}): the "
            "backup was damaged after it was taken; use another one",
            path=archive,
        )


def _audit_problems(files: dict[str, bytes]) -> list[str]:
    if AUDIT_FILE not in files:
        return []
    records = [json.loads(line) for line in files[AUDIT_FILE].splitlines() if line.strip()]
    problems = verify_chain(records)
    if ANCHOR_FILE in files:
        anchor = _parse_anchor(files[ANCHOR_FILE])
        problems += anchor_problems(records, anchor) if anchor else ["its anchor is unreadable"]
    return problems


def _parse_anchor(raw: bytes) -> Anchor | None:
    sound = [a for a in (_parse(raw[i : i + SLOT]) for i in (0, SLOT)) if a is not None]
    return max(sound, key=lambda a: a.seq) if sound else None


def _anchor_bytes(seq: int, digest: str) -> bytes:
    # The layout AnchorFile.write leaves: the slot of seq % 2 holds the record, the other zeros.
    slots = [b"\0" * SLOT, b"\0" * SLOT]
    slots[seq % 2] = _slot(seq, digest)
    return b"".join(slots)


def _cut_at(trail: bytes, seq: int, path: Path) -> bytes:
    """The trail up to and including the record with `seq`."""
    if seq == 0:
        return b""
    offset = 0
    for line in trail.splitlines(keepends=True):
        offset += len(line)
        with contextlib.suppress(ValueError):
            if json.loads(line).get("seq") == seq:
                return trail[:offset]
    raise StoreError(
        f"{path} has no record with seq {seq}, which its anchor names: the trail was cut or "
        "damaged; check it with `ovtui audit verify` before taking a backup",
        path=path,
    )


def _schema_of(raw: bytes, path: Path) -> int:
    try:
        meta = json.loads(raw).get("_meta", {})
        version = next(iter(meta.values()))["schema_version"]
    except (ValueError, AttributeError, StopIteration, KeyError, TypeError):
        raise StoreError(
            f"{path} is not readable ovtui state: no schema version", path=path
        ) from None
    if not isinstance(version, int):
        raise StoreError(f"{path} has an unreadable schema version {version!r}", path=path)
    return version


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    if not member.isfile():
        raise tarfile.TarError(f"{member.name} is not a regular file")
    f = tar.extractfile(member)
    assert f is not None
    return f.read()


def _bad(archive: Path, problem: str) -> StoreError:
    return StoreError(f"{archive} is not a usable ovtui backup: {problem}", path=archive)
