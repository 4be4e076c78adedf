"""What every screen shows around its content: top bar, connection banner, activity, footer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeGuard, TypeVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from ovtui.tui.activity import Activity, ActivityLine
from ovtui.tui.banner import ConnectionBanner
from ovtui.tui.top_bar import TopBar

W = TypeVar("W", bound=Widget)


@dataclass
class Chrome:
    """Shared, mutable, owned by the app; screens redraw from it when told to."""

    title: str = "ovtui"
    summary: str = "connecting…"
    synthetic: bool = False
    problem: str | None = None
    activity: Activity = field(default_factory=Activity)


class FleetScreen(Screen[None]):
    """A screen with the dashboard's chrome; subclasses yield their content from body()."""

    def __init__(self, chrome: Chrome) -> None:
        super().__init__()
        self.chrome = chrome

    def compose(self) -> ComposeResult:
        # Kept: redraw_chrome runs at each poll, and three queries of the screen's DOM were a
        # quarter of an idle tab's CPU.
        self._bar, self._banner = TopBar(), ConnectionBanner()
        self._line = ActivityLine(self.chrome.activity)
        yield self._bar
        yield self._banner
        yield from self.body()
        yield self._line
        yield Footer(show_command_palette=False, compact=True)

    def body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.redraw_chrome()

    def reload(self) -> None:
        """Called on each refresh tick while this screen is on top; detail screens fetch here."""

    def redraw_chrome(self) -> None:
        c = self.chrome
        bar: TopBar | None = getattr(self, "_bar", None)
        banner: ConnectionBanner | None = getattr(self, "_banner", None)
        line: ActivityLine | None = getattr(self, "_line", None)
        if _shown_in(bar, self):  # not yet composed, or torn down: nothing to draw
            bar.show(title=c.title, summary=c.summary, synthetic=c.synthetic)
        if _shown_in(banner, self):
            if c.problem:
                banner.show_problem(c.problem)
            else:
                banner.clear()
        if _shown_in(line, self):
            line.redraw()


def _shown_in(widget: W | None, screen: Screen[None]) -> TypeGuard[W]:
    return widget is not None and widget.is_mounted and widget.parent is screen
