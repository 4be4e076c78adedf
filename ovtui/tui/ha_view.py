"""The HA screen (`:ha`): the cluster's HA reservation, hosts being fenced (or waiting for an
operator's confirmation) with the HA VMs that wait on them, and HA restarts in progress with
their stage, priority and last error. A client of the API only (GET /api/v1/ha)."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ovtui.client import ApiError
from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.ha_rows import (
    host_cells,
    left_down_text,
    lost_hosts,
    recovery_cells,
    reservation_line,
)
from ovtui.tui.keyed_table import Col, KeyedTable
from ovtui.tui.poller import Poller
from ovtui.tui.screen_load import while_shown

HOST_COLUMNS = (
    Col("host", "Host"),
    Col("stage", "Stage"),
    Col("for", "For"),
    Col("why", "Waiting for / last error"),
    Col("waiting", "HA VMs waiting (priority)"),
)
RECOVERY_COLUMNS = (
    Col("vm", "VM"),
    Col("priority", "Prio"),
    Col("from", "From"),
    Col("cause", "Cause"),
    Col("stage", "Stage"),
    Col("attempts", "Tries"),
    Col("next", "Next"),
    Col("error", "Last error"),
)


class HaScreen(FleetScreen):
    DEFAULT_CSS = """
    HaScreen #ha-reservation { height: auto; padding: 0 1; }
    HaScreen #ha-hosts { height: auto; max-height: 40%; }
    HaScreen #ha-recoveries { height: 1fr; }
    HaScreen .ha-title { color: $text-muted; padding: 0 1; }
    HaScreen #ha-left-down { height: auto; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "app.pop_screen", "back", tooltip="back to the dashboard")]
    HELP_TITLE = "high availability"

    def __init__(self, chrome: Chrome, poller: Poller) -> None:
        super().__init__(chrome)
        self.poller = poller
        self.loads = 0  # completed loads; tests wait on it

    def body(self) -> ComposeResult:
        yield Static("loading…", id="ha-reservation")
        yield Static("hosts being fenced", classes="ha-title")
        yield KeyedTable(HOST_COLUMNS, sort="host", id="ha-hosts")
        yield Static("HA restarts in progress (highest priority first)", id="ha-recovery-title",
                     classes="ha-title")  # fmt: skip
        # in the API's order (priority, then name): the order they are started in
        yield KeyedTable(RECOVERY_COLUMNS, id="ha-recoveries")
        yield Static("", id="ha-left-down", markup=False)

    def on_mount(self) -> None:
        self.query_one("#ha-hosts", KeyedTable).focus()
        self.reload()

    def reload(self) -> None:
        self.run_worker(while_shown(self._load()), exclusive=True, group="ha")

    @property
    def reservation_text(self) -> str:
        return str(self.query_one("#ha-reservation", Static).render())

    async def _load(self) -> None:
        try:
            status = await self.poller.get("/api/v1/ha")
        except ApiError as exc:
            if exc.status:  # status 0 (unreachable) is the banner's job
                self.query_one("#ha-reservation", Static).update(exc.message)
            return
        now = time.time()
        self.query_one("#ha-reservation", Static).update(reservation_line(status["reservation"]))
        hosts = lost_hosts(status)
        self.query_one("#ha-hosts", KeyedTable).sync(
            {n: (n, *host_cells(h, now)) for n, h in hosts.items()}
        )
        recoveries = status["recoveries"]
        self.query_one("#ha-recoveries", KeyedTable).sync(
            {r["uuid"]: recovery_cells(r, now) for r in recoveries}
        )
        title = "HA restarts in progress (highest priority first)"
        if not recoveries:
            title += ": none"
        self.query_one("#ha-recovery-title", Static).update(title)
        self.query_one("#ha-left-down", Static).update(left_down_text(status["left_down"]))
        self.loads += 1
