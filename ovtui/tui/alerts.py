"""The overview's alerts: what needs an operator, derived from one poll and recent events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ovtui.tui.rows import FleetData

HOT = 0.80  # CPU or memory at or above this is flagged
_DOWN_STATES = {"non_responsive": "not responding", "non_operational": "non-operational"}
_FAILED_WORDS = ("fail", "crash", "error")


@dataclass(frozen=True, slots=True)
class Alert:
    severity: str  # error | warning | info
    text: str


def host_alerts(fleet: FleetData, hot: float = HOT) -> list[Alert]:
    out: list[Alert] = []
    for h in sorted(fleet.hosts, key=lambda h: h.name):
        if h.state in _DOWN_STATES:
            why = f": {h.state_reason}" if h.state_reason else ""
            out.append(Alert("error", f"{h.name} {_DOWN_STATES[h.state]}{why}"))
        elif h.maintenance or h.state == "maintenance":
            out.append(Alert("info", f"{h.name} in maintenance"))
        mark = "*" if h.synthetic else ""
        if h.cpu_usage is not None and h.cpu_usage >= hot:
            out.append(Alert("warning", f"{h.name} CPU {h.cpu_usage * 100:.0f}%{mark}"))
        if h.memory_mib and h.memory_used_mib / h.memory_mib >= hot:
            used = h.memory_used_mib * 100 // h.memory_mib
            out.append(Alert("warning", f"{h.name} memory {used}% committed"))
    return out


def failed_events(events: Iterable[dict[str, Any]]) -> list[Alert]:
    """Failed migrations and actions, crashed VMs: newest first."""
    out = []
    for ev in events:
        what = str(ev.get("what", ""))
        if any(w in what.lower() for w in _FAILED_WORDS):
            who = str(ev.get("vm") or ev.get("host") or "")
            detail = str(ev.get("detail") or "")
            out.append(Alert("error", f"{who}: {what}" + (f" ({detail})" if detail else "")))
    return out[::-1]


def summary_line(alerts: list[Alert]) -> str:
    """'2 errors · 3 warnings · 1 info', or that all is well."""
    counts = {s: sum(a.severity == s for a in alerts) for s in ("error", "warning", "info")}
    parts = [f"{n} {s}{'s' if n != 1 and s != 'info' else ''}" for s, n in counts.items() if n]
    return " · ".join(parts) if parts else "no alerts"
