"""What the dashboard is doing for you: actions under way, then the last outcome.

The state is shared by every screen's ActivityLine, so opening a detail screen mid-action still
shows the action and, later, how it ended.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from textual.widgets import Static

from ovtui.tui import quiet


@dataclass
class Activity:
    running: dict[int, str] = field(default_factory=dict)
    last: str = ""
    last_ok: bool = True
    # This session's failed actions, newest last: the overview lists them among its alerts.
    failures: deque[str] = field(default_factory=lambda: deque(maxlen=20))

    def start(self, token: int, text: str) -> None:
        self.running[token] = text

    def finish(self, token: int, text: str, ok: bool) -> None:
        self.running.pop(token, None)
        self.last, self.last_ok = f"{'✓' if ok else '✗'} {text}", ok
        if not ok:
            self.failures.append(text)

    @property
    def line(self) -> str:
        if self.running:
            return "⟳ " + " · ".join(self.running.values())
        return self.last


class ActivityLine(Static):
    DEFAULT_CSS = """
    ActivityLine { height: 1; padding: 0 1; color: $text-muted; }
    ActivityLine.-error { color: $error; }
    ActivityLine.-busy { color: $warning; }
    """

    def __init__(self, activity: Activity) -> None:
        super().__init__("", markup=False)
        self.activity = activity

    def on_mount(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        self.set_class(bool(self.activity.running), "-busy")
        self.set_class(not self.activity.running and not self.activity.last_ok, "-error")
        quiet.update(self, self.activity.line)

    @property
    def text(self) -> str:
        return self.activity.line
