"""The audit trail: one JSON record per login and action, each chained to the one before by hash.

auth/ does no file I/O of its own: the engine hands in an append function (its JSON-lines log),
so the same chain works on any append-only sink.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

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
            self._append(rec)
            self._last = rec["hash"]
            return rec


def verify_chain(records: Iterable[dict[str, Any]]) -> list[str]:
    """Returns problems (empty = intact): an edited record or a removed one breaks the chain."""
    problems: list[str] = []
    prev = GENESIS
    for i, rec in enumerate(records):
        where = f"record {i} (seq {rec.get('seq', '?')})"
        if rec.get("prev") != prev:
            problems.append(f"{where}: chain broken: a record before it was removed or edited")
        if rec.get("hash") != _digest(rec):
            problems.append(f"{where}: content does not match its hash: it was edited")
        prev = rec.get("hash", "")
    return problems
