"""Typed messages from the polling worker to the screens."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from ovtui.tui.rows import FleetData


class FleetUpdated(Message):
    def __init__(self, data: FleetData) -> None:
        super().__init__()
        self.data = data


class EventsArrived(Message):
    def __init__(self, events: list[dict[str, Any]]) -> None:
        super().__init__()
        self.events = events


class EventsDenied(Message):
    """The signed-in user may not read events (403): say so once, stop asking."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class EngineLost(Message):
    def __init__(self, status: int, message: str) -> None:
        super().__init__()
        self.status, self.message = status, message
