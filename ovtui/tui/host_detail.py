"""Enter on a host: its capacity, what is committed on it, its VMs and its recent events.

Events need events.read system-wide (GET /api/v1/events has no per-host grant): without it
the screen says so in place of the table, and never asks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from ovtui.client import ApiError
from ovtui.tui import clock, fmt
from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.columns import VM_COLUMNS, vm_cells
from ovtui.tui.events_view import KIND_STYLE
from ovtui.tui.host_actions import HOST_ACTION_BINDINGS, HostActionRequested, host_action_allowed
from ovtui.tui.keyed_table import KeyedTable
from ovtui.tui.nav_table import NavTable
from ovtui.tui.network_lines import host_networks_line
from ovtui.tui.poller import Poller
from ovtui.tui.rights import Rights
from ovtui.tui.rows import FleetData, HostRow, VmRow
from ovtui.tui.screen_load import while_shown
from ovtui.tui.vms_view import VmsView

EVENTS_SHOWN = 20
EVENTS_READ = "events.read"
NO_EVENTS_READ = (
    "Events not shown: your roles do not grant events.read system-wide "
    "(a grant on a cluster or host does not cover events); ask an administrator for a role "
    "with it, such as ReadOnly."
)


def capacity_text(host: HostRow, vms: list[VmRow], fleet: FleetData) -> str:
    mark = fmt.SYNTHETIC_MARK if host.synthetic else ""
    load = "-" if host.cpu_usage is None else f"{host.cpu_usage * 100:.0f}%{mark}"
    ratio = f"{host.vcpus_committed / host.cpus:.1f}:1" if host.cpus else "-"
    used_pct = host.memory_used_mib * 100 // host.memory_mib if host.memory_mib else 0
    overcommit = fleet.overcommit.get(host.cluster, 100)
    state = host.state + (f" ({host.state_reason})" if host.state_reason else "")
    lines = [
        f"{host.name}  {state}{'  [maintenance]' if host.maintenance else ''}",
        f"cluster {host.cluster} · datacenter {host.datacenter} · CPU model {host.cpu_model}"
        f" · migration {'live' if host.live_migration else 'cold only (VMs restart)'}",
        f"CPU     {host.cpus} CPUs · load {load} · {host.vcpus_committed} vCPUs committed"
        f" ({ratio})",
        f"Memory  {fmt.gib(host.memory_used_mib)} of {fmt.gib(host.memory_mib)} committed"
        f" ({used_pct}%) · limit {fmt.gib(fleet.memory_limit_mib(host))} at {overcommit}%"
        f" over-commit · {fmt.gib(fleet.memory_free_mib(host))} free",
        f"VMs     {host.vms_running} running of {len(vms)} defined",
    ]
    if host.networks:
        lines.append(host_networks_line(host.networks))
    if host.synthetic:
        lines.append(f"{fmt.SYNTHETIC_MARK} load is SYNTHETIC (demo load model)")
    return "\n".join(lines)


class HostDetailScreen(FleetScreen):
    DEFAULT_CSS = """
    HostDetailScreen #capacity { height: auto; padding: 0 1; border: round $accent; }
    HostDetailScreen KeyedTable { height: 1fr; }
    HostDetailScreen #events-title { padding: 0 1; text-style: bold; }
    HostDetailScreen #host-events { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "back", tooltip="back to the dashboard"),
        *HOST_ACTION_BINDINGS,
    ]
    HELP_TITLE = "host detail"

    def __init__(
        self,
        chrome: Chrome,
        name: str,
        poller: Poller,
        fleet: Callable[[], FleetData],
        rights: Rights | None = None,
    ) -> None:
        super().__init__(chrome)
        self.host_name, self.poller, self.fleet = name, poller, fleet
        self.rights = rights or Rights()
        self.host: HostRow | None = None
        self.vms: dict[str, VmRow] = {}
        self.events: list[dict[str, Any]] | None = None  # newest first, as shown

    def body(self) -> ComposeResult:
        yield Static(f"{self.host_name}: loading…", id="capacity", markup=False)
        yield KeyedTable(VM_COLUMNS, sort="name", id="host-vms")
        yield Static("Recent events (newest first)", id="events-title", markup=False)
        yield NavTable(id="host-events", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#capacity", Static).border_title = f"host {self.host_name}"
        events = self.query_one("#host-events", DataTable)
        events.add_columns("Time", "Kind", "VM", "What", "Detail")
        if not self.may_read_events:
            self.deny_events(NO_EVENTS_READ)
        self.query_one(KeyedTable).focus()
        self.reload()

    @property
    def may_read_events(self) -> bool:
        return EVENTS_READ in self.rights.system

    def reload(self) -> None:
        self.run_worker(while_shown(self._load()), exclusive=True, group="host-detail")

    async def _load(self) -> None:
        events = self._load_events() if self.may_read_events else _nothing()
        try:
            data, _ = await asyncio.gather(
                self.poller.get(f"/api/v1/hosts/{self.host_name}"), events
            )
        except ApiError as exc:
            if exc.status:  # status 0 (unreachable) is the banner's job
                self.query_one("#capacity", Static).update(exc.message)
            return
        self.show(HostRow.from_json(data), [VmRow.from_json(v) for v in data.get("vms", [])])

    async def _load_events(self) -> None:
        try:
            records = await self.poller.get(
                "/api/v1/events", host=self.host_name, limit=EVENTS_SHOWN
            )
        except ApiError as exc:
            if exc.status == 403:  # rights changed under us: the engine's word is final
                self.deny_events(f"Events not shown: {exc.message}")
            elif exc.status:  # status 0 (unreachable) is the banner's job
                self.query_one("#events-title", Static).update(f"Events: {exc.message}")
            return
        self.show_events(records)

    def show_events(self, records: list[dict[str, Any]]) -> None:
        newest_first = list(reversed(records))
        if newest_first == self.events:
            return  # unchanged: keep the cursor where the user left it
        self.events = newest_first
        title = "Recent events (newest first)" if records else "No events recorded for this host"
        self.query_one("#events-title", Static).update(title)
        table = self.query_one("#host-events", DataTable)
        table.clear()
        for ev in newest_first:
            kind = str(ev.get("kind", ""))
            table.add_row(
                clock.shown(str(ev.get("ts", ""))),
                Text(kind, style=KIND_STYLE.get(kind, "")),
                str(ev.get("vm") or ""),
                str(ev.get("what", "")),
                str(ev.get("detail") or ""),
            )

    def deny_events(self, message: str) -> None:
        self.query_one("#events-title", Static).update(message)
        self.query_one("#host-events", DataTable).display = False

    def show(self, host: HostRow, vms: list[VmRow]) -> None:
        self.host = host
        self.refresh_bindings()  # maintenance on/off: the key offered follows the host's state
        self.vms = {v.uuid: v for v in vms}
        self.query_one("#capacity", Static).update(capacity_text(host, vms, self.fleet()))
        self.query_one(KeyedTable).sync({v.uuid: vm_cells(v) for v in vms})

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        vm = self.vms.get(str(event.row_key.value))
        if vm is not None:
            self.post_message(VmsView.OpenVm(vm))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return host_action_allowed(action, parameters, self.rights, self.host)

    def action_host(self, action: str) -> None:
        if self.host is not None:
            self.post_message(HostActionRequested(self.host, action))


async def _nothing() -> None:
    return None
