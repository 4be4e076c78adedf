"""What every screen shows around its content: top bar, connection banner, activity, footer."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from ovtui.tui.activity import Activity, ActivityLine
from ovtui.tui.banner import ConnectionBanner
from ovtui.tui.top_bar import TopBar


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
        yield TopBar()
        yield ConnectionBanner()
        yield from self.body()
        yield ActivityLine(self.chrome.activity)
        yield Footer(show_command_palette=False, compact=True)

    def body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.redraw_chrome()

    def reload(self) -> None:
        """Called on each refresh tick while this screen is on top; detail screens fetch here."""

    def redraw_chrome(self) -> None:
        c = self.chrome
        for bar in self.query(TopBar):  # query, not query_one: may be mid-compose or teardown
            bar.show(title=c.title, summary=c.summary, synthetic=c.synthetic)
        for banner in self.query(ConnectionBanner):
            if c.problem:
                banner.show_problem(c.problem)
            else:
                banner.clear()
        for line in self.query(ActivityLine):
            line.redraw()
