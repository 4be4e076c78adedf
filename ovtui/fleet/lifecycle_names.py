"""Readable names for libvirt lifecycle events (event, detail) -> 'stopped (destroyed)'."""

from __future__ import annotations

_EVENTS = [
    "defined",
    "undefined",
    "started",
    "suspended",
    "resumed",
    "stopped",
    "shutdown",
    "pmsuspended",
    "crashed",
]
_DETAILS: dict[int, list[str]] = {
    0: ["added", "updated", "renamed", "from snapshot"],
    1: ["removed", "renamed"],
    2: ["booted", "migrated", "restored", "from snapshot", "woken up"],
    3: ["paused", "migrated", "I/O error", "watchdog", "restored", "from snapshot", "API error"],
    4: ["unpaused", "migrated", "from snapshot", "post-copy"],
    5: ["shut down", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot"],
    6: ["finished", "guest request", "host request"],
}


def describe(event: int, detail: int) -> str:
    name = _EVENTS[event] if 0 <= event < len(_EVENTS) else f"event {event}"
    details = _DETAILS.get(event, [])
    return f"{name} ({details[detail]})" if 0 <= detail < len(details) else name
