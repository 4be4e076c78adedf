"""The audit trail: one JSON record per login and action, each chained to the one before by hash.

auth/ does no file I/O of its own: the engine hands in an append function (its JSON-lines log),
so the same chain works on any append-only sink.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

GENESIS = "0" * 64
_CHAIN_FIELDS = ("seq", "hash")  # seq is the log's own numbering; hash is what we compute


def _digest(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k not in _CHAIN_FIELDS}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


class AuditTrail:
    def __init__(self, append: Callable[[dict[str, Any]], Any], last_hash: str = GENESIS) -> None:
        self._append = append
        self._last = last_hash
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
            stored = self._append(rec)
            self._last = rec["hash"]
            for sink in self._sinks:
                try:
                    sink(stored if isinstance(stored, dict) else rec)
                except Exception:  # a forwarding problem must never stop the action or the trail
                    log.exception("audit forwarding failed (the record is in the local trail)")
            return rec


def verify_chain(records: Iterable[dict[str, Any]], start: str = GENESIS) -> list[str]:
    """Returns problems (empty = intact): an edited record or a removed one breaks the chain.

    `start` is the hash the first record must follow: GENESIS for a whole trail, or the first
    record's own `prev` to check a window of it (what a client that paged part of it can do).
    """
    problems: list[str] = []
    prev = start
    last_seq: int | None = None
    for i, rec in enumerate(records):
        seq = rec.get("seq")
        where = f"record {i} (seq {seq if seq is not None else '?'})"
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
