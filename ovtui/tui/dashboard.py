"""The main screen: Overview, Hosts, VMs and Events tabs; the overview is where one lands."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, TabbedContent, TabPane

from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.events_view import EventsView
from ovtui.tui.hosts_view import HostsView
from ovtui.tui.overview_view import OverviewView
from ovtui.tui.vms_view import VmsView

TAB_TITLES = {"overview": "Overview", "hosts": "Hosts", "vms": "VMs", "events": "Events"}


class DashboardScreen(FleetScreen):
    DEFAULT_CSS = """
    DashboardScreen TabbedContent { height: 1fr; }
    DashboardScreen TabPane { padding: 0; }
    """
    BINDINGS = [
        Binding("0", "tab('overview')", "overview", show=False, tooltip="Overview tab"),
        Binding("1", "tab('hosts')", "hosts", show=False, tooltip="Hosts tab"),
        Binding("2", "tab('vms')", "VMs", show=False, tooltip="VMs tab"),
        Binding("3", "tab('events')", "events", show=False, tooltip="Events tab"),
    ]

    def __init__(self, chrome: Chrome) -> None:
        super().__init__(chrome)

    def body(self) -> ComposeResult:
        with TabbedContent(initial="overview"):
            with TabPane(f"{TAB_TITLES['overview']} (0)", id="overview"):
                yield OverviewView()
            with TabPane(f"{TAB_TITLES['hosts']} (1)", id="hosts"):
                yield HostsView()
            with TabPane(f"{TAB_TITLES['vms']} (2)", id="vms"):
                yield VmsView()
            with TabPane(f"{TAB_TITLES['events']} (3)", id="events"):
                yield EventsView()

    @property
    def overview(self) -> OverviewView:
        return self.query_one(OverviewView)

    @property
    def hosts(self) -> HostsView:
        return self.query_one(HostsView)

    @property
    def vms(self) -> VmsView:
        return self.query_one(VmsView)

    @property
    def events(self) -> EventsView:
        return self.query_one(EventsView)

    def on_mount(self) -> None:  # FleetScreen.on_mount runs too (Textual calls each class's)
        self._set_live()

    def on_screen_resume(self) -> None:
        self._set_live()

    def on_screen_suspend(self) -> None:
        self._set_live()

    def _set_live(self) -> None:
        """Only the tab on show is kept up to date at each poll: the others catch up when shown
        (their tables would cost a sync each poll for nobody to see)."""
        active = self.query_one(TabbedContent).active if self.is_current else None
        self.overview.set_live(active == "overview")
        self.hosts.set_live(active == "hosts")
        self.vms.set_live(active == "vms")

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.query_one(f"#{tab}", TabPane).query(DataTable).first().focus()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        # Keys follow the table on show: the footer then lists that tab's actions.
        self._set_live()
        if event.pane is not None:
            event.pane.query(DataTable).first().focus()
