"""The dashboard application: polls the engine, feeds the screens, runs VM actions.

Every API call runs in a worker with a bounded timeout; the UI thread only renders. When the
engine cannot be reached a banner says so on every screen and polling simply goes on.
"""

from __future__ import annotations

import time
from contextlib import suppress
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widgets import TabbedContent

from ovtui.client import ApiError, AsyncClient
from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.dashboard import TAB_TITLES, DashboardScreen
from ovtui.tui.fmt import SYNTHETIC_MARK
from ovtui.tui.help_screen import HelpScreen, keys_of
from ovtui.tui.host_detail import HostDetailScreen
from ovtui.tui.hosts_view import HostsView
from ovtui.tui.messages import EngineLost, EventsArrived, EventsDenied, FleetUpdated
from ovtui.tui.poller import Poller
from ovtui.tui.rows import FleetData
from ovtui.tui.vm_actions import VmActionRequested, VmActionRunner
from ovtui.tui.vm_detail import VmDetailScreen
from ovtui.tui.vms_view import VmsView

REFRESH_SECONDS = 2.0


class OvtuiApp(App[None]):
    TITLE = "ovtui"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "quit", "quit", show=False, tooltip="quit the dashboard"),  # room
        Binding("question_mark", "help", "help", key_display="?", tooltip="this list of keys"),
    ]

    def __init__(
        self,
        socket: Path,
        token: str,
        *,
        demo: bool = False,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        super().__init__()
        self.client = AsyncClient(socket, token)
        self.poller = Poller(self.client)
        self.demo = demo
        self.refresh_seconds = refresh_seconds
        self.chrome = Chrome(title="ovtui")  # short: at 80 columns the summary needs the room
        self.fleet = FleetData()
        self.permissions: frozenset[str] = frozenset()
        self.user: str | None = None
        self.polls = 0  # completed fleet polls; tests wait on it
        self.vm_actions = VmActionRunner(
            self, self.client, lambda: self.fleet, self.chrome.activity, self._activity_changed
        )
        self.dashboard = DashboardScreen(self.chrome)
        self._polling = False
        self._events_denied = False
        self._last_ok: float | None = None
        self._who = ""

    # -- life cycle --------------------------------------------------------------------------
    async def on_mount(self) -> None:
        await self.push_screen(self.dashboard)  # composed before the first poll lands
        self.set_interval(self.refresh_seconds, self.tick)
        self.tick()
        if self.demo:
            self.notify(
                f"Demo fleet: load figures are SYNTHETIC (marked {SYNTHETIC_MARK}). "
                "Press ? for the keys of each screen.",
                timeout=8,
            )

    async def on_unmount(self) -> None:
        await self.client.aclose()

    def tick(self) -> None:
        self.poll_now()
        if isinstance(self.screen, FleetScreen) and self.screen is not self.dashboard:
            self.screen.reload()

    def poll_now(self) -> None:
        # One poll at a time: a slow engine gets no pile of requests, just a later retry.
        if not self._polling:
            self._polling = True
            self.run_worker(self._poll(), group="poll")

    async def _poll(self) -> None:
        try:
            if self.user is None:
                await self._load_session()
            self.post_message(FleetUpdated(await self.poller.fleet()))
            if not self._events_denied:
                await self._poll_events()
        except ApiError as exc:
            self.post_message(EngineLost(exc.status, exc.message))
        except Exception as exc:  # a malformed answer must not kill the dashboard
            self.post_message(EngineLost(-1, f"unexpected answer from the engine: {exc!r}"))
        finally:
            self._polling = False

    async def _load_session(self) -> None:
        who = await self.poller.session()
        self.user = str(who.get("user", "?"))
        self.permissions = frozenset(who.get("permissions", ()))
        roles = ", ".join(who.get("roles", ()))
        self._who = f"{self.user} ({roles})"

    async def _poll_events(self) -> None:
        try:
            events = await self.poller.events()
        except ApiError as exc:
            if exc.status != 403:
                raise
            self._events_denied = True
            self.post_message(EventsDenied(exc.message))
            return
        if events:
            self.post_message(EventsArrived(events))

    # -- what the poll brings ----------------------------------------------------------------
    def on_fleet_updated(self, msg: FleetUpdated) -> None:
        data = self.fleet = msg.data
        with suppress(NoMatches):  # a poll that lands while the app shuts down
            self.dashboard.vms.set_permissions(self.permissions)
            self.dashboard.hosts.show(data)
            self.dashboard.vms.show(data)
        # Most important first: at 80 columns the end (the time) is what gets cut.
        self.chrome.summary = (
            f"{self._who} · {len(data.hosts)} hosts · {len(data.vms)} VMs · "
            f"{time.strftime('%H:%M:%S')}"
        )
        self.chrome.synthetic = data.synthetic
        if self.chrome.problem:
            self.notify("connection to the engine restored")
        self.chrome.problem = None
        self._last_ok = time.time()
        self.polls += 1
        self._redraw_chrome()

    def on_events_arrived(self, msg: EventsArrived) -> None:
        with suppress(NoMatches):
            self.dashboard.events.add(msg.events)

    def on_events_denied(self, msg: EventsDenied) -> None:
        with suppress(NoMatches):
            self.dashboard.events.deny(msg.message)

    def on_engine_lost(self, msg: EngineLost) -> None:
        since = (
            time.strftime(" since %H:%M:%S", time.localtime(self._last_ok)) if self._last_ok else ""
        )
        if msg.status == 401:
            text = f"⚠ {msg.message} — quit (q) and sign in again"
        elif msg.status != 0:
            text = f"⚠ the engine answered with an error{since}: {msg.message} — retrying"
        else:
            text = (
                f"⚠ ENGINE CONNECTION LOST{since}: {msg.message} — "
                f"retrying every {self.refresh_seconds:g} s; figures shown are stale"
            )
        self.chrome.problem = text
        self._redraw_chrome()

    def _redraw_chrome(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, FleetScreen) and screen.is_mounted:
                screen.redraw_chrome()

    def _activity_changed(self) -> None:
        self._redraw_chrome()
        self.poll_now()

    # -- navigation and actions ----------------------------------------------------------------
    def on_hosts_view_open_host(self, msg: HostsView.OpenHost) -> None:
        self.push_screen(HostDetailScreen(self.chrome, msg.name, self.poller, lambda: self.fleet))

    def on_vms_view_open_vm(self, msg: VmsView.OpenVm) -> None:
        self.push_screen(VmDetailScreen(self.chrome, msg.vm, self.poller, self.permissions))

    def on_vm_action_requested(self, msg: VmActionRequested) -> None:
        self.vm_actions.request(msg.vm, msg.action)

    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, ModalScreen):
            return
        title = str(getattr(screen, "HELP_TITLE", type(screen).__name__))
        if screen is self.dashboard:
            active = self.dashboard.query_one(TabbedContent).active
            title = f"{TAB_TITLES.get(active, active)} tab"
        self.push_screen(HelpScreen(title, keys_of(screen)))


def run_dashboard(socket: Path, token: str, *, demo: bool = False) -> None:
    """Runs the dashboard in this terminal until the user quits."""
    OvtuiApp(socket, token, demo=demo).run()
