"""Checking the audit trail's end against its anchor: the seq and hash of the newest record,
kept outside the trail (ovtui/store/audit_anchor.py), so that a trail cut short or emptied shows.

The chain alone cannot see a cut at the end: the records left still chain perfectly. The anchor
can, as long as it is not rewritten together with the trail (forward to syslog for that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from auth.audit import GENESIS


@dataclass(frozen=True, slots=True)
class Anchor:
    seq: int
    hash: str


EMPTY = Anchor(0, GENESIS)


def _span(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}..{last}"


def anchor_problems(records: Sequence[dict[str, Any]], anchor: Anchor) -> list[str]:
    """Problems of the trail's end against `anchor`; [] when they agree.

    `records` are the trail's records in file order: the whole trail, or at least every record
    from the anchored one on. The trail may be one record ahead of its anchor (the engine stopped
    between an append and its anchor write, or it is writing right now); never behind.
    """
    last = next((r["seq"] for r in reversed(records) if isinstance(r.get("seq"), int)), 0)
    s = anchor.seq
    if last < s:
        if last == 0:
            return [f"the trail is empty, but its anchor says it ended at seq {s}: it was emptied"]
        return [
            f"the trail ends at seq {last}, but its anchor says seq {s}: "
            f"{_span(last + 1, s)} cut off its end (truncated)"
        ]
    problems: list[str] = []
    if s > 0:
        at = [r for r in records if r.get("seq") == s]
        if not at:
            problems.append(f"the anchored record (seq {s}) is missing: it was removed")
        elif at[-1].get("hash") != anchor.hash:
            problems.append(
                f"record seq {s} is not the one anchored (hash {anchor.hash[:16]}...): "
                "the trail was rewritten"
            )
    if last > s + 1:
        problems.append(
            f"{_span(s + 2, last)} follow the anchor (seq {s}); the engine keeps it at most one "
            "record behind, so these were added by something else, or the anchor is an old "
            "copy, or its writes failed (the engine log says AUDIT ANCHOR NOT WRITTEN)"
        )
    return problems
