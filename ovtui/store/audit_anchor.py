"""The audit trail's anchor on disk: `audit.anchor` next to `audit.jsonl`, one small JSON object.

Its own file, not state.json: each audit record rewrites these few dozen bytes (temp file, fsync,
rename, so a kill leaves the old anchor or the new one), never the whole state, and an append
stays O(1) however large the trail or the state grows.
"""

from __future__ import annotations

import json
from pathlib import Path

from auth.audit_anchor import Anchor
from ovtui.store.atomic_file import atomic_write_bytes, remove_stale_temps
from ovtui.store.errors import StoreError


def anchor_path(trail: Path) -> Path:
    """audit.jsonl -> audit.anchor (a copy.jsonl is checked against copy.anchor)."""
    return trail.with_suffix(".anchor")


class AnchorFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Anchor | None:
        """The anchor, None if there is none; StoreError if the file is not an anchor."""
        try:
            data = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read: {exc.strerror}", path=self.path) from None
        except (ValueError, UnicodeDecodeError):
            data = None
        seq = data.get("seq") if isinstance(data, dict) else None
        digest = data.get("hash") if isinstance(data, dict) else None
        if type(seq) is not int or seq < 0 or not isinstance(digest, str):
            raise StoreError(
                f'{self.path}: not an audit anchor (want {{"seq": N, "hash": "..."}}): '
                "it was edited or damaged",
                path=self.path,
            )
        return Anchor(seq, digest)

    def write(self, seq: int, digest: str) -> None:
        data = json.dumps({"seq": seq, "hash": digest}, separators=(",", ":")).encode() + b"\n"
        atomic_write_bytes(self.path, data)

    def remove_stale_temps(self) -> None:
        remove_stale_temps(self.path)
