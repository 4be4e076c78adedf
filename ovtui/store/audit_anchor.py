"""The audit trail's anchor on disk: `audit.anchor` next to `audit.jsonl`.

Its own small file, not state.json, so that an audit record never rewrites the whole state. It
is written in place, one fdatasync per record: two fixed slots of SLOT bytes, the record with
seq N going to slot N % 2, each with a check of its content. A write torn by a crash spoils only
its own slot, and the reader falls back to the other one, one record older: the same "anchor
one behind the trail" that a kill between an append and its anchor leaves, which the checks
allow. (A temp file and a rename cost three fsyncs per record: ten times the append itself.)
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from auth.audit_anchor import Anchor
from ovtui.store.atomic_file import fsync_directory
from ovtui.store.errors import StoreError

SLOT = 128  # {"seq":...,"hash":<64 hex>,"check":<16 hex>} fits with room for a long seq


def anchor_path(trail: Path) -> Path:
    """audit.jsonl -> audit.anchor (a copy.jsonl is checked against copy.anchor)."""
    return trail.with_suffix(".anchor")


def _check(seq: int, digest: str) -> str:
    return hashlib.sha256(f"{seq}:{digest}".encode()).hexdigest()[:16]


def _slot(seq: int, digest: str) -> bytes:
    body = json.dumps({"seq": seq, "hash": digest, "check": _check(seq, digest)}).encode()
    if len(body) >= SLOT:
        raise ValueError(f"anchor for seq {seq} does not fit a {SLOT}-byte slot")
    return body.ljust(SLOT - 1) + b"\n"


def _parse(raw: bytes) -> Anchor | None:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    seq, digest = data.get("seq"), data.get("hash")
    if type(seq) is not int or seq < 0 or not isinstance(digest, str):
        return None
    return Anchor(seq, digest) if data.get("check") == _check(seq, digest) else None


class AnchorFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Anchor | None:
        """The newest sound slot; None if there is no anchor; StoreError if none is sound."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read: {exc.strerror}", path=self.path) from None
        if not raw.strip(b"\0"):
            return None  # created, then killed before its first slot was written
        sound = [a for a in (_parse(raw[i : i + SLOT]) for i in (0, SLOT)) if a is not None]
        if len(raw) not in (SLOT, 2 * SLOT) or not sound:
            raise StoreError(
                f"{self.path}: not an audit anchor: it was edited or damaged", path=self.path
            )
        return max(sound, key=lambda a: a.seq)

    def write(self, seq: int, digest: str) -> None:
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            os.pwrite(fd, _slot(seq, digest), (seq % 2) * SLOT)
            os.fdatasync(fd)
        finally:
            os.close(fd)
        if created:
            fsync_directory(self.path.parent)
