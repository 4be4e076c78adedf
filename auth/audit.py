"""The audit trail: one JSON record per login and action, each chained to the one before by hash.

auth/ does no file I/O of its own: the engine hands in an append function (its JSON-lines log)
and an anchor function (the last seq and hash, kept outside the trail so that a shortened trail
shows), so the same chain works on any append-only sink.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

GENESIS = "0" * 64
_CHAIN_FIELDS = ("seq", "hash")  # seq is the log's own numbering; hash is what we compute
# The records written in the current context (an API request): lets the request's own error
# path see that the action already audited its refusal or failure, so it is never audited twice.
# A list, not a flag: contexts copied into worker threads share it.
_written: ContextVar[list[dict[str, Any]] | None] = ContextVar("audit_written", default=None)


def note_left_out() -> None:
    """Tells the current context's watcher that its refusal was counted, on purpose not written
    (auth.refusal_limit), so that no other path writes it either."""
    noted = _written.get()
    if noted is not None:
        noted.append({"left_out": True})


@contextmanager
def watching() -> Iterator[list[dict[str, Any]]]:
    """Collects every record written inside the block (in this task and threads it starts)."""
    written: list[dict[str, Any]] = []
    token = _written.set(written)
    try:
        yield written
    finally:
        _written.reset(token)


def _digest(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k not in _CHAIN_FIELDS}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


class AuditTrail:
    """Chains, appends, anchors and forwards records, one at a time.

    `anchor(seq, hash)` runs after each append. Order matters for a kill -9: the record is on
    disk before its anchor, so a killed engine leaves the anchor at most one record behind the
    trail (never ahead, which would look like a cut trail). A failed anchor write never costs a
    record (the action it records has happened): it is logged as an error, the next record
    anchors itself, and if the engine stops first, the lag of more than one is reported at the
    next start.
    `first_seq` numbers the first record (the engine resumes after a cut trail's anchor, so the
    gap stays visible in the file); later ones follow the sink's numbering.
    """

    def __init__(
        self,
        append: Callable[[dict[str, Any]], Any],
        last_hash: str = GENESIS,
        *,
        anchor: Callable[[int, str], None] | None = None,
        first_seq: int | None = None,
    ) -> None:
        self._append = append
        self._last = last_hash
        self._anchor = anchor
        self._next_seq = first_seq
        self._lock = threading.Lock()
        self._sinks: list[Callable[[dict[str, Any]], None]] = []

    def add_sink(self, sink: Callable[[dict[str, Any]], None]) -> None:
        """Also hands every record to `sink` (syslog forwarding) once it is safely appended."""
        self._sinks.append(sink)

    def record(
        self,
        *,
        actor: str,
        action: str,
        target: str = "",
        result: str = "ok",
        params: dict[str, Any] | None = None,
        source: str = "",
        detail: str = "",
        actor_source: str = "",
    ) -> dict[str, Any]:
        with self._lock:
            rec: dict[str, Any] = {
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "actor": actor,
                "actor_source": actor_source,
                "action": action,
                "target": target,
                "params": params or {},
                "result": result,
                "source": source,
                "detail": detail,
                "prev": self._last,
            }
            rec["hash"] = _digest(rec)
            if self._next_seq is not None:
                rec = {"seq": self._next_seq, **rec}
            stored = self._append(rec)
            self._next_seq = None
            forwarded = stored if isinstance(stored, dict) else rec
            self._last = rec["hash"]
            if self._anchor is not None:
                try:
                    self._anchor(int(forwarded["seq"]), rec["hash"])
                except Exception:  # the record is safe; the next one anchors itself
                    log.exception("AUDIT ANCHOR NOT WRITTEN: the trail is ahead of its anchor")
            _noted = _written.get()
            if _noted is not None:
                _noted.append(forwarded)
            for sink in self._sinks:
                try:
                    sink(forwarded)
                except Exception:  # a forwarding problem must never stop the action or the trail
                    log.exception("audit forwarding failed (the record is in the local trail)")
            return rec


def verify_chain(
    records: Iterable[dict[str, Any]], start: str = GENESIS, *, from_start: bool | None = None
) -> list[str]:
    """Returns problems (empty = intact): an edited record or a removed one breaks the chain.

    `start` is the hash the first record must follow: GENESIS for a whole trail, or the first
    record's own `prev` to check a window of it (what a client that paged part of it can do).
    A whole trail (`from_start`, by default when `start` is GENESIS) must begin at seq 1.
    """
    whole = start == GENESIS if from_start is None else from_start
    problems: list[str] = []
    prev = start
    last_seq: int | None = None
    for i, rec in enumerate(records):
        seq = rec.get("seq")
        where = f"record {i} (seq {seq if seq is not None else '?'})"
        if i == 0 and whole and isinstance(seq, int) and seq > 1:
            missing = "1" if seq == 2 else f"1..{seq - 1}"
            problems.append(f"{where}: the trail starts at seq {seq}: seq {missing} missing")
        if isinstance(seq, int) and last_seq is not None and seq <= last_seq:
            problems.append(f"{where}: seq does not follow {last_seq}: records were reordered")
        elif isinstance(seq, int) and last_seq is not None and seq != last_seq + 1:
            missing = f"{last_seq + 1}" if seq == last_seq + 2 else f"{last_seq + 1}..{seq - 1}"
            problems.append(f"{where}: seq {missing} missing: records were removed")
        if rec.get("prev") != prev:
            problems.append(f"{where}: chain broken: a record before it was removed or edited")
        if rec.get("hash") != _digest(rec):
            problems.append(f"{where}: content does not match its hash: it was edited")
        prev = rec.get("hash", "")
        last_seq = seq if isinstance(seq, int) else last_seq
    return problems
