"""Enter on a host: its capacity, what is committed on it, and its VMs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from ovtui.client import ApiError
from ovtui.tui import fmt
from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.columns import VM_COLUMNS, vm_cells
from ovtui.tui.host_actions import HOST_ACTION_BINDINGS, HostActionRequested, host_action_allowed
from ovtui.tui.keyed_table import KeyedTable
from ovtui.tui.poller import Poller
from ovtui.tui.rights import Rights
from ovtui.tui.rows import FleetData, HostRow, VmRow
from ovtui.tui.screen_load import while_shown
from ovtui.tui.vms_view import VmsView


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
    if host.synthetic:
        lines.append(f"{fmt.SYNTHETIC_MARK} load is SYNTHETIC (demo load model)")
    return "\n".join(lines)


class HostDetailScreen(FleetScreen):
    DEFAULT_CSS = """
    HostDetailScreen #capacity { height: auto; padding: 0 1; border: round $accent; }
    HostDetailScreen KeyedTable { height: 1fr; }
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

    def body(self) -> ComposeResult:
        yield Static(f"{self.host_name}: loading…", id="capacity", markup=False)
        yield KeyedTable(VM_COLUMNS, sort="name", id="host-vms")

    def on_mount(self) -> None:
        self.query_one("#capacity", Static).border_title = f"host {self.host_name}"
        self.query_one(KeyedTable).focus()
        self.reload()

    def reload(self) -> None:
        self.run_worker(while_shown(self._load()), exclusive=True, group="host-detail")

    async def _load(self) -> None:
        try:
            data: dict[str, Any] = await self.poller.get(f"/api/v1/hosts/{self.host_name}")
        except ApiError as exc:
            if exc.status:  # status 0 (unreachable) is the banner's job
                self.query_one("#capacity", Static).update(exc.message)
            return
        self.show(HostRow.from_json(data), [VmRow.from_json(v) for v in data.get("vms", [])])

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
