"""Opening the audit trail at engine start: check its end against the anchor, then chain on.

Damage found here (a trail cut short or emptied, an edited or unreadable last record, a missing
or foreign anchor) does NOT stop the engine; it starts with a loud alert instead: an ERROR in
the log, an `audit.damaged` record (result "alert", forwarded to syslog at warning), and the
gauge ovtui_audit_trail_problems (alert OvtuiAuditTrailDamaged). Why not refuse to start: the
engine runs HA, fencing and the policies, and operators need it most during an incident; a
refusal would hand anyone who can write one byte in the store directory a switch that turns
management off, and it would guard the evidence no better, because nothing is repaired here.
Damaged lines stay in the file, untouched (only a torn, unterminated last line from a kill is
cut, and that cut is audited itself), and after a cut trail numbering resumes after the anchor,
so the gap stays visible to `ovtui audit verify` for good.

Only the end is read (O(1) in the trail's length); `ovtui audit verify` checks the whole chain.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from auth.audit import GENESIS, AuditTrail, verify_chain
from auth.audit_anchor import EMPTY, Anchor, anchor_problems
from ovtui.store import JsonlLog, Store, StoreError
from ovtui.store.audit_anchor import AnchorFile, anchor_path
from ovtui.store.state import AnchorStore, Log

log = logging.getLogger(__name__)
AUDIT_FILE = "audit.jsonl"
ACTOR = "engine"
# Set once the engine has anchored this store's trail: from then on a missing anchor is damage,
# not a trail from a version that had none.
ANCHORED = "audit_anchored"


def open_audit(
    store_dir: Path,
    store: Store,
    sinks: Iterable[Callable[[dict[str, Any]], None]] = (),
) -> tuple[JsonlLog, AuditTrail, list[str]]:
    """The trail's log, the AuditTrail that appends to it (and forwards to `sinks`, from the
    records written here on), and the problems found at its end."""
    trail_log = JsonlLog(store_dir / AUDIT_FILE, fsync=True)
    trail, problems = open_audit_on(
        trail_log, AnchorFile(anchor_path(trail_log.path)), store, sinks
    )
    return trail_log, trail, problems


def open_audit_on(
    trail_log: Log,
    anchor_file: AnchorStore,
    store: Store,
    sinks: Iterable[Callable[[dict[str, Any]], None]] = (),
) -> tuple[AuditTrail, list[str]]:
    """open_audit on a trail and anchor of any backend (files, PostgreSQL)."""
    problems: list[str] = []
    anchor: Anchor | None = None
    try:
        anchor = anchor_file.read()
    except StoreError as exc:
        problems.append(exc.message)
    if anchor is None and not problems and store.get_setting(ANCHORED):
        problems.append(f"{anchor_file.path} is missing, so truncation cannot be checked")
    if trail_log.unreadable_end:
        problems.append(
            f"the last {trail_log.unreadable_end} complete line(s) of {trail_log.path} are not "
            "audit records: edited or damaged (kept as they are)"
        )
    window = _end_window(trail_log, anchor)
    problems += verify_chain(window, window[0]["prev"] if window else GENESIS, from_start=False)
    if anchor is not None:
        problems += anchor_problems(window, anchor)
    last = trail_log.tail(1)
    last_hash = str(last[0].get("hash", GENESIS)) if last else GENESIS
    resume = anchor.seq + 1 if anchor is not None and trail_log.last_seq < anchor.seq else None
    trail = AuditTrail(trail_log.append, last_hash, anchor=anchor_file.write, first_seq=resume)
    for sink in sinks:
        trail.add_sink(sink)
    if trail_log.cut_bytes:
        trail.record(
            actor=ACTOR,
            action="audit.torn_line_cut",
            detail=f"cut {trail_log.cut_bytes} bytes of an unterminated last line (the engine "
            "was stopped mid-write)",
            params=_cut_params(trail_log),
        )
    if problems:
        for problem in problems:
            log.error("AUDIT TRAIL DAMAGED: %s: %s", trail_log.path, problem)
        trail.record(
            actor=ACTOR,
            action="audit.damaged",
            result="alert",
            detail="; ".join(problems),
            params={"anchor": None if anchor is None else {"seq": anchor.seq, "hash": anchor.hash}},
        )
    elif not trail_log.cut_bytes and (anchor is None or anchor.seq != trail_log.last_seq):
        # First start with anchoring, or stopped between an append and its anchor: catch up.
        anchor_file.write(trail_log.last_seq, last_hash)
    if not store.get_setting(ANCHORED):  # after the anchor exists: a kill before is no alarm
        store.set_setting(ANCHORED, True)
    return trail, problems


def _end_window(trail_log: Log, anchor: Anchor | None) -> list[dict[str, Any]]:
    """The anchored record and any after it (at most one, normally); the last one if none.

    The records before were checked at earlier starts: each damage is alerted once.
    """
    a = (anchor or EMPTY).seq
    since = max(0, min(a or trail_log.last_seq, trail_log.last_seq) - 1)
    return trail_log.read(since_seq=since, limit=10_000)


def _cut_params(trail_log: Log) -> dict[str, Any]:
    return {
        "bytes": trail_log.cut_bytes,
        "sha256": hashlib.sha256(trail_log.cut).hexdigest(),
        "text": trail_log.cut[:4096].decode(errors="replace"),
    }
