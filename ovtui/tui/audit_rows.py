"""The audit screen's pure parts: its filter, a record's cells, and the hash-chain check.

The chain is checked on the client over the records it has loaded (auth.audit.verify_chain,
the engine's own rule): every record's hash must match its content and follow the one before.
A window that starts after seq 1 is checked from its own first record on; what lies before it
is not, and the status line says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from auth.audit import GENESIS, verify_chain
from ovtui.tui import clock, fmt

FIELDS = ("actor", "action", "target", "result")
_RESULT_STYLE = {
    "ok": "green",
    "denied": "bold red",
    "failed": "red",
    "refused": "yellow",  # a request the engine turned down (404, 409, 422...)
    "alert": "bold white on red",  # the engine found its audit trail damaged at start
}


class AuditFilterError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """'actor:alice result:denied policy' — field:value pairs and free words, all must match
    (case-insensitive substrings; free words may match any field or the detail)."""

    fields: dict[str, str] = field(default_factory=dict)
    words: tuple[str, ...] = ()

    def __call__(self, rec: dict[str, Any]) -> bool:
        for name, want in self.fields.items():
            if want not in str(rec.get(name, "")).lower():
                return False
        haystack = " ".join(str(rec.get(k, "")) for k in (*FIELDS, "detail", "source")).lower()
        return all(w in haystack for w in self.words)

    @property
    def empty(self) -> bool:
        return not self.fields and not self.words


def parse_filter(text: str) -> AuditFilter:
    fields: dict[str, str] = {}
    words: list[str] = []
    for token in text.lower().split():
        name, colon, value = token.partition(":")
        if not colon:
            words.append(token)
        elif name not in FIELDS:
            raise AuditFilterError(f"unknown field {name!r}: use {', '.join(FIELDS)}")
        elif value:
            fields[name] = value
    return AuditFilter(fields, tuple(words))


def cells(rec: dict[str, Any]) -> tuple[str | Text, ...]:
    result = str(rec.get("result", ""))
    return (
        fmt.number(int(rec.get("seq") or 0)),
        clock.shown(rec.get("ts")),
        str(rec.get("actor", "")),
        str(rec.get("action", "")),
        str(rec.get("target", "")),
        Text(result, style=_RESULT_STYLE.get(result, "")),
        str(rec.get("detail", "")),
    )


@dataclass(frozen=True, slots=True)
class ChainStatus:
    ok: bool
    text: str


def chain_status(records: list[dict[str, Any]]) -> ChainStatus:
    """records: contiguous, oldest first (as loaded)."""
    if not records:
        return ChainStatus(True, "no audit records yet")
    first, last = records[0].get("seq"), records[-1].get("seq")
    whole = first == 1
    problems = verify_chain(records, GENESIS if whole else str(records[0].get("prev", "")))
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return ChainStatus(False, f"✗ hash chain BROKEN: {problems[0]}{more}")
    if whole:
        return ChainStatus(True, f"✓ hash chain intact: all {len(records)} records (seq 1-{last})")
    return ChainStatus(
        True,
        f"✓ hash chain intact over the loaded seq {first}-{last}; records before seq {first} "
        "are not checked here (b loads older ones)",
    )


def record_intact(rec: dict[str, Any]) -> bool:
    """The record's hash matches its content (not whether it follows the one before)."""
    return not verify_chain([rec], str(rec.get("prev", "")), from_start=False)


def detail_text(rec: dict[str, Any]) -> str:
    params = json.dumps(rec.get("params") or {}, indent=2, sort_keys=True)
    lines = [
        f"seq      {rec.get('seq', '?')}",
        f"time     {clock.shown(rec.get('ts'))}  ({rec.get('ts', '?')})",
        f"actor    {rec.get('actor', '')}"
        + (f"  ({rec['actor_source']})" if rec.get("actor_source") else ""),
        f"action   {rec.get('action', '')}",
        f"target   {rec.get('target', '') or '-'}",
        f"result   {rec.get('result', '')}",
        f"source   {rec.get('source', '') or '-'}",
        f"detail   {rec.get('detail', '') or '-'}",
        f"params   {params}",
        f"prev     {rec.get('prev', '?')}",
        f"hash     {rec.get('hash', '?')}",
        "hash matches the content" if record_intact(rec) else "✗ HASH DOES NOT MATCH THE CONTENT",
    ]
    return "\n".join(lines)
