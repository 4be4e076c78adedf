"""The line at the top of every screen: who, what, when, and whether the load is synthetic."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from ovtui.tui import quiet
from ovtui.tui.fmt import SYNTHETIC_BADGE, SYNTHETIC_MARK


class TopBar(Horizontal):
    DEFAULT_CSS = """
    TopBar { height: 1; background: $panel; }
    TopBar #title { width: auto; padding: 0 1; text-style: bold; }
    TopBar #summary { width: 1fr; padding: 0 1; color: $text-muted; }
    TopBar #synthetic-badge {
        width: auto; padding: 0 1; background: $warning; color: $text; text-style: bold;
    }
    """

    def compose(self) -> ComposeResult:
        # Kept: show() runs at each poll, and three queries of the bar's children were most
        # of what an unchanged poll cost the bar.
        self._title = Static("ovtui", id="title")
        self._summary = Static("", id="summary")
        badge = self._badge = Static(SYNTHETIC_BADGE, id="synthetic-badge")
        badge.display = False
        badge.tooltip = (
            f"Figures marked {SYNTHETIC_MARK} come from the demo's load model, not from guests."
        )
        yield self._title
        yield self._summary
        yield badge

    def show(self, *, title: str, summary: str, synthetic: bool) -> None:
        badge: Static | None = getattr(self, "_badge", None)
        if not self.is_mounted or badge is None or not badge.is_mounted:
            return  # its children are not mounted yet: the next redraw shows it
        quiet.update(self._title, title)
        # One line, 1fr wide: its text changes (the time, each poll) but never its size.
        quiet.update(self._summary, summary, layout=False)
        if badge.display != synthetic:
            badge.display = synthetic
