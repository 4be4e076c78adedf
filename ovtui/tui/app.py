"""The dashboard application: signs in, polls the engine, feeds the screens, runs actions.

Every API call runs in a worker with a bounded timeout; the UI thread only renders. When the
engine cannot be reached a banner says so on every screen and polling simply goes on; when the
session ends (401) the sign-in screen comes back over the dashboard.
"""

from __future__ import annotations

import asyncio
import getpass
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widgets import TabbedContent

from ovtui.client import ApiError, AsyncClient
from ovtui.tui import builtin_commands  # noqa: F401  (registers the `:` commands)
from ovtui.tui.alerts import Alert, failed_events, host_alerts
from ovtui.tui.bulk_actions import BulkRunner
from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.command_prompt import CommandPrompt
from ovtui.tui.commands import CommandError, help_lines, parse
from ovtui.tui.dashboard import TAB_TITLES, DashboardScreen
from ovtui.tui.fmt import SYNTHETIC_MARK
from ovtui.tui.gc_tuning import Collector, tune_gc
from ovtui.tui.help_screen import HelpScreen, keys_of
from ovtui.tui.history import History
from ovtui.tui.host_actions import HostActionRequested, HostActionRunner
from ovtui.tui.host_detail import HostDetailScreen
from ovtui.tui.hosts_view import HostsView
from ovtui.tui.login_screen import LoginScreen
from ovtui.tui.messages import EngineLost, EventsArrived, EventsDenied, FleetUpdated
from ovtui.tui.overview_view import OverviewView
from ovtui.tui.poller import Poller
from ovtui.tui.rights import Rights
from ovtui.tui.rows import FleetData, VmRow
from ovtui.tui.themes import THEMES, other
from ovtui.tui.vm_actions import VmActionRequested, VmActionRunner
from ovtui.tui.vm_detail import VmDetailScreen
from ovtui.tui.vm_history import VmHistory
from ovtui.tui.vms_view import BulkActionRequested, VmsView

REFRESH_SECONDS = 2.0
RECENT_EVENTS = 200  # what the overview's alerts look back over
SIGN_OUT_TIMEOUT = 2.0


class OvtuiApp(App[None]):
    TITLE = "ovtui"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "quit", "quit", show=False, tooltip="quit the dashboard"),  # room
        Binding("question_mark", "help", "help", key_display="?", tooltip="this list of keys"),
        Binding("colon", "command_prompt", "cmd", key_display=":", tooltip="command line (:help)"),
        Binding("T", "toggle_theme", "theme", show=False, tooltip="switch light / dark colours"),
    ]

    def __init__(
        self,
        socket: Path,
        token: str | None = None,
        *,
        demo: bool = False,
        refresh_seconds: float = REFRESH_SECONDS,
        user: str = "",
    ) -> None:
        super().__init__()
        self.client = AsyncClient(socket, token or None)
        self.poller = Poller(self.client)
        self.demo = demo
        self.refresh_seconds = refresh_seconds
        self.chrome = Chrome(title="ovtui")  # short: at 80 columns the summary needs the room
        self.fleet = FleetData()
        self.history = History()
        self.vm_history = VmHistory()  # per VM, for the VM detail's trend lines
        self.recent_events: deque[dict[str, Any]] = deque(maxlen=RECENT_EVENTS)
        self.rights = Rights()
        self.permissions: frozenset[str] = frozenset()  # system-wide; grants are in rights
        self.user: str | None = None
        self.login_user = user  # pre-filled on the sign-in screen
        self.signed_in_here = False  # then quitting signs out: the session ends with the TUI
        self.polls = 0  # completed fleet polls; tests wait on it
        self.collector = Collector()  # see gc_tuning: cyclic garbage collected every 30 s
        self.command_error: str | None = None  # the last `:` command's refusal; tests read it
        changed = self._activity_changed
        self.vm_actions = VmActionRunner(
            self, self.client, lambda: self.fleet, self.chrome.activity, changed
        )
        self.bulk = BulkRunner(
            self, self.client, lambda: self.rights, self.chrome.activity, changed
        )
        self.host_actions = HostActionRunner(
            self, self.client, lambda: self.fleet, self.chrome.activity, changed, self._who_name
        )
        self.dashboard = DashboardScreen(self.chrome)
        self._started = False
        self._polling = False
        self._want_vms = False
        self._events_denied = False
        self._last_ok: float | None = None
        self._who = ""
        self._first: asyncio.Future[FleetData] | None = None  # the reading asked at mount

    # -- life cycle --------------------------------------------------------------------------
    async def on_mount(self) -> None:
        if self.client.token:
            # The first reading is asked for now, while the session is checked and the
            # dashboard composed (the VM list's answer is most of the wait at start-up); the
            # first poll takes it.
            self._first = asyncio.ensure_future(self.poller.fleet())
            self._first.add_done_callback(_retrieved)
            try:
                who = await self.poller.session()
            except ApiError as exc:
                if exc.status == 0:  # engine away: the token may well be good; the banner says
                    await self._start()
                    return
            else:
                self._apply_session(who)
                await self._start()
                return
        self.client.token = None
        self.push_screen(LoginScreen(self.client, self.login_user), self._signed_in)

    async def _start(self) -> None:
        self._started = True
        await self.push_screen(self.dashboard)  # composed before the first poll lands
        self.set_interval(self.refresh_seconds, self.tick)
        self.tick()
        if self.demo:
            self.notify(
                f"Demo fleet: load figures are SYNTHETIC (marked {SYNTHETIC_MARK}). "
                "Press ? for the keys of each screen, : for commands.",
                timeout=8,
            )

    async def _signed_in(self, result: dict[str, Any] | None) -> None:
        if result is None:
            return
        self.signed_in_here = True
        self._apply_session(result)
        self.chrome.problem = None
        if not self._started:
            await self._start()
        else:
            self._redraw_chrome()
            self.poll_now(vms=True)

    async def on_unmount(self) -> None:
        if self.signed_in_here and self.client.token:
            with suppress(ApiError):  # the engine may be gone: the session then expires alone
                await self.client.request(
                    "DELETE", "/api/v1/sessions/current", timeout=SIGN_OUT_TIMEOUT
                )
        await self.client.aclose()

    def tick(self) -> None:
        self.poll_now()
        screen = self.screen
        # A screen pushed but not yet mounted reloads itself in on_mount: reloaded before, its
        # answer could land before on_mount made its tables' columns.
        if isinstance(screen, FleetScreen) and screen is not self.dashboard and screen.is_mounted:
            screen.reload()

    def poll_now(self, vms: bool = False) -> None:
        """`vms`: read the VM list in this poll even where it is read only every few ticks
        (after an action, its VMs' states matter now); asked during a poll, the next has it."""
        self._want_vms |= vms
        # One poll at a time: a slow engine gets no pile of requests, just a later retry.
        if self._started and not self._polling:
            self._polling = True
            self.run_worker(self._poll(), group="poll")

    async def _poll(self) -> None:
        try:
            if self.user is None:
                self._apply_session(await self.poller.session())
            vms, self._want_vms = self._want_vms, False
            self.post_message(FleetUpdated(await self._first_or_fleet(vms)))
            if not self._events_denied:
                await self._poll_events()
        except ApiError as exc:
            self.post_message(EngineLost(exc.status, exc.message))
        except Exception as exc:  # a malformed answer must not kill the dashboard
            self.post_message(EngineLost(-1, f"unexpected answer from the engine: {exc!r}"))
        finally:
            self._polling = False

    async def _first_or_fleet(self, vms: bool) -> FleetData:
        first, self._first = self._first, None
        if first is not None:
            with suppress(ApiError):  # asked before the sign-in was known good: ask again
                return await first
        return await self.poller.fleet(vms=vms)

    def _apply_session(self, who: dict[str, Any]) -> None:
        self.user = str(who.get("user", "?"))
        self.rights = Rights.from_whoami(who)
        self.permissions = self.rights.system
        scoped = [f"{g['role']}@{g['object']}" for g in who.get("grants", ())]
        self._who = f"{self.user} ({', '.join([*who.get('roles', ()), *scoped])})"

    def _who_name(self) -> str:
        return self.user or "?"

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
        # The poller hands back the previous reading itself when nothing changed: then only
        # the time in the top bar moves (no trend sample, no table, no layout).
        with suppress(NoMatches):  # a poll that lands while the app shuts down
            self.dashboard.vms.set_rights(self.rights)  # no-ops unless a sign-in changed them
            self.dashboard.hosts.set_rights(self.rights)
            if msg.data is not self.fleet:
                self._show_fleet(msg.data)
            else:  # events and this session's failures come and go without the fleet changing
                self.dashboard.overview.show_alerts(self.alerts())
        self.host_actions.polled()
        data = self.fleet
        # Most important first: at 80 columns the end (the time) is what gets cut.
        every = self.poller.vm_ticks * self.refresh_seconds
        vms = f"{len(data.vms)} VMs" + (
            f" (read every {every:g} s)" if every > self.refresh_seconds else ""
        )
        self.chrome.summary = (
            f"{self._who} · {len(data.hosts)} hosts · {vms} · {time.strftime('%H:%M:%S')}"
        )
        self.chrome.synthetic = data.synthetic
        if self.chrome.problem:
            self.notify("connection to the engine restored")
        self.chrome.problem = None
        self._last_ok = time.time()
        self.polls += 1
        self._redraw_chrome()
        self.collector.after_poll()

    def _show_fleet(self, data: FleetData) -> None:
        if data.vms is not self.fleet.vms:  # the VM list was read anew and changed
            self.vm_history.record(data)
        self.fleet = data
        self.history.record(data)
        self.dashboard.overview.show(data, self.history, self.alerts())
        self.dashboard.hosts.show(data)
        self.dashboard.vms.show(data)
        for screen in self.screen_stack:
            if isinstance(screen, VmDetailScreen) and screen.is_mounted:
                screen.show_trend()

    def alerts(self) -> list[Alert]:
        mine = [Alert("error", f"your action failed: {t}") for t in self.chrome.activity.failures]
        return host_alerts(self.fleet) + failed_events(self.recent_events) + mine[::-1]

    def on_events_arrived(self, msg: EventsArrived) -> None:
        self.recent_events.extend(msg.events)
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
            text = f"⚠ {msg.message} — sign in again"
            if not isinstance(self.screen, LoginScreen):
                notice = f"Session ended: {msg.message}"
                self.push_screen(LoginScreen(self.client, self.user or "", notice), self._signed_in)
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
        self.poll_now(vms=True)

    # -- navigation (also what the `:` commands call) ------------------------------------------
    def show_tab(self, tab: str, cluster: str | None = None) -> None:
        while self.screen is not self.dashboard and len(self.screen_stack) > 2:
            self.pop_screen()
        self.dashboard.action_tab(tab)
        if tab == "hosts":
            self.dashboard.hosts.set_cluster(cluster)
        elif tab == "vms":
            self.dashboard.vms.set_cluster(cluster)

    def open_host(self, name: str) -> None:
        self.push_screen(
            HostDetailScreen(self.chrome, name, self.poller, lambda: self.fleet, self.rights)
        )

    def open_vm(self, vm: VmRow) -> None:
        self.push_screen(VmDetailScreen(self.chrome, vm, self.poller, self.rights, self.vm_history))

    def open_view(self, screen_class: Callable[[Chrome, Poller], Screen[Any]]) -> None:
        self.push_screen(screen_class(self.chrome, self.poller))

    def set_theme(self, name: str) -> None:
        self.theme = THEMES[name]

    def show_command_help(self) -> None:
        self.push_screen(HelpScreen("commands (type : first)", help_lines()))

    def on_hosts_view_open_host(self, msg: HostsView.OpenHost) -> None:
        self.open_host(msg.name)

    def on_overview_view_open_group(self, msg: OverviewView.OpenGroup) -> None:
        if len(msg.path) == 3:
            self.open_host(msg.path[2])
        else:
            self.show_tab("hosts", cluster=msg.path[1] if len(msg.path) == 2 else None)

    def on_vms_view_open_vm(self, msg: VmsView.OpenVm) -> None:
        self.open_vm(msg.vm)

    def on_vm_action_requested(self, msg: VmActionRequested) -> None:
        self.vm_actions.request(msg.vm, msg.action)

    def on_bulk_action_requested(self, msg: BulkActionRequested) -> None:
        self.bulk.request(msg.vms, msg.action)

    def on_host_action_requested(self, msg: HostActionRequested) -> None:
        self.host_actions.request(msg.host, msg.action)

    # -- keys ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("command_prompt", "help", "toggle_theme"):
            # Not over a sign-in screen or a dialog: those own the keyboard.
            return not isinstance(self.screen, (LoginScreen, ModalScreen))
        return True

    def action_command_prompt(self) -> None:
        self.push_screen(CommandPrompt(), self.run_command)

    def run_command(self, text: str | None) -> None:
        if not text:
            return
        try:
            cmd, args = parse(text)
            cmd.run(self, args)
        except CommandError as exc:
            self.command_error = str(exc)
            self.notify(str(exc), title="command", severity="error", markup=False)
        else:
            self.command_error = None

    def action_toggle_theme(self) -> None:
        self.set_theme(other(self.theme))

    def action_help(self) -> None:
        screen = self.screen
        title = str(getattr(screen, "HELP_TITLE", type(screen).__name__))
        if screen is self.dashboard:
            active = self.dashboard.query_one(TabbedContent).active
            title = f"{TAB_TITLES.get(active, active)} tab"
        self.push_screen(HelpScreen(title, keys_of(screen)))


def _retrieved(task: asyncio.Future[Any]) -> None:
    """A first reading nobody took (the sign-in screen came instead) fails quietly."""
    if not task.cancelled():
        task.exception()


def run_dashboard(socket: Path, token: str | None, *, demo: bool = False) -> None:
    """Runs the dashboard in this terminal until the user quits; signs in first if needed."""
    tune_gc()
    OvtuiApp(socket, token, demo=demo, user=getpass.getuser()).run()
