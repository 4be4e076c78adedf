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
        yield Static("ovtui", id="title")
        yield Static("", id="summary")
        badge = Static(SYNTHETIC_BADGE, id="synthetic-badge")
        badge.display = False
        badge.tooltip = (
            f"Figures marked {SYNTHETIC_MARK} come from the demo's load model, not from guests."
        )
        yield badge

    def show(self, *, title: str, summary: str, synthetic: bool) -> None:
        if not self.is_mounted or not self.query("#synthetic-badge"):
            return  # its children are not mounted yet: the next redraw shows it
        quiet.update(self.query_one("#title", Static), title)
        # One line, 1fr wide: its text changes (the time, each poll) but never its size.
        quiet.update(self.query_one("#summary", Static), summary, layout=False)
        badge = self.query_one("#synthetic-badge", Static)
        if badge.display != synthetic:
            badge.display = synthetic
