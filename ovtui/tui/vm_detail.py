"""Enter on a VM: its fields, disks and NICs, its recent CPU and memory (as this session has
polled them, vm_history.py), and its recent migrations; the VM action keys work here too."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from ovtui.client import ApiError
from ovtui.tui import fmt
from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.events_view import local_time
from ovtui.tui.keyed_table import Cell
from ovtui.tui.poller import Poller
from ovtui.tui.rights import Rights
from ovtui.tui.rows import VmRow
from ovtui.tui.screen_load import while_shown
from ovtui.tui.trend_line import TrendLine
from ovtui.tui.vm_actions import VM_ACTION_BINDINGS, VmActionRequested, action_allowed
from ovtui.tui.vm_devices import device_lines
from ovtui.tui.vm_history import VmHistory

MIGRATIONS_SHOWN = 20


def _state(vm: VmRow) -> str:
    if vm.migrating:
        how = f" ({vm.migration_mode})" if vm.migration_mode else ""
        return f"migrating{how} from {vm.migration_source or vm.host} to {vm.migration_target}"
    return f"{vm.state}  on {vm.host}"


def fields_text(vm: VmRow, detail: dict[str, Any] | None = None) -> str:
    """The VM's fields; `detail` (GET /api/v1/vms/{vm}) adds its disks and NICs."""
    load = "-"
    if vm.active and vm.cpu_usage is not None:
        load = f"{vm.cpu_usage * 100:.0f}%" + (
            f"{fmt.SYNTHETIC_MARK} (synthetic)" if vm.synthetic else ""
        )
    flags = fmt.flags(vm.highly_available, vm.pinned, vm.migratable).plain or "-"
    groups = ", ".join(
        f"{kind} {g}"
        for kind, g in (("affinity", vm.affinity_group), ("anti-affinity", vm.anti_affinity_group))
        if g
    )
    now = vm.memory_current_mib
    memory = fmt.gib(vm.memory_mib) + (
        f" ({fmt.gib(now)} now)" if vm.active and now and now != vm.memory_mib else ""
    )
    return "\n".join(
        [
            f"{vm.name}  {_state(vm)}  (cluster {vm.cluster}, {vm.datacenter})",
            f"uuid    {vm.uuid}",
            f"size    {vm.vcpus} vCPU · {memory} · CPU {load}",
            f"flags   {flags}{'' if vm.persistent else ' · transient'}"
            f"{' · role ' + vm.role if vm.role else ''}{' · ' + groups if groups else ''}",
            *device_lines(detail),
        ]
    )


def trend_title(samples: int, synthetic: bool) -> str:
    """One line at 80 columns: what the two lines below it show, and that CPU is synthetic."""
    mark = f" · CPU {fmt.SYNTHETIC_MARK}SYNTHETIC (demo)" if synthetic else ""
    polls = "poll" if samples == 1 else "polls"
    return f"last {samples} {polls}, 0-100% · Mem: allocated now / max{mark}"


class VmDetailScreen(FleetScreen):
    DEFAULT_CSS = """
    VmDetailScreen #fields { height: auto; padding: 0 1; border: round $accent; }
    VmDetailScreen #vm-trend { height: 3; padding: 0 1; }
    VmDetailScreen #vm-trend-title { color: $text-muted; height: 1; text-overflow: ellipsis; }
    VmDetailScreen .spark-row { height: 1; }
    VmDetailScreen .spark-label { width: 5; }
    VmDetailScreen #migrations-title { padding: 0 1; text-style: bold; }
    VmDetailScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "back", tooltip="back to the previous screen"),
        *VM_ACTION_BINDINGS,
    ]
    HELP_TITLE = "VM detail"

    def __init__(
        self,
        chrome: Chrome,
        vm: VmRow,
        poller: Poller,
        rights: Rights,
        history: VmHistory | None = None,
    ) -> None:
        super().__init__(chrome)
        self.vm, self.poller, self.rights = vm, poller, rights
        self.history = history if history is not None else VmHistory()
        self.detail: dict[str, Any] | None = None  # the last GET /api/v1/vms/{vm}
        self._migrations: list[dict[str, Any]] | None = None

    def body(self) -> ComposeResult:
        yield Static(fields_text(self.vm), id="fields", markup=False)
        with Vertical(id="vm-trend"):
            yield Static("", id="vm-trend-title", markup=False)
            with Horizontal(classes="spark-row"):
                yield Static("CPU", classes="spark-label")
                yield TrendLine(id="vm-spark-cpu")
            with Horizontal(classes="spark-row"):
                yield Static("Mem", classes="spark-label")
                yield TrendLine(id="vm-spark-memory")
        yield Static("Recent migrations (newest first)", id="migrations-title")
        yield DataTable[Cell](id="migrations", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#fields", Static).border_title = f"VM {self.vm.name}"
        table = self.query_one("#migrations", DataTable)
        table.add_columns("Time", "From", "To", "Mode", "Result", "By", "Detail")
        table.focus()
        self.show_trend()
        self.reload()

    def show_trend(self) -> None:
        """Redraws the trend lines from the history (the app calls it after each poll)."""
        cpu = self.history.cpu(self.vm.uuid)
        self.query_one("#vm-trend-title", Static).update(trend_title(len(cpu), self.vm.synthetic))
        self.query_one("#vm-spark-cpu", TrendLine).show(cpu)
        self.query_one("#vm-spark-memory", TrendLine).show(self.history.memory(self.vm.uuid))

    def reload(self) -> None:
        self.run_worker(while_shown(self._load()), exclusive=True, group="vm-detail")

    async def _load(self) -> None:
        try:
            data, migrations = await asyncio.gather(
                self.poller.get(f"/api/v1/vms/{self.vm.uuid}"),
                self.poller.get("/api/v1/migrations", vm=self.vm.name, limit=MIGRATIONS_SHOWN),
            )
        except ApiError as exc:
            if exc.status:  # status 0 (unreachable) is the banner's job
                self.query_one("#fields", Static).update(exc.message)
            return
        self.vm, self.detail = VmRow.from_json(data), data
        self.refresh_bindings()  # its state or host may have changed what is offered
        self.query_one("#fields", Static).update(fields_text(self.vm, data))
        self.show_trend()
        self._show_migrations(migrations)

    def _show_migrations(self, records: list[dict[str, Any]]) -> None:
        if records == self._migrations:
            return  # unchanged: keep the cursor where the user left it
        self._migrations = records
        title = "Recent migrations (newest first)" if records else "No migrations recorded"
        self.query_one("#migrations-title", Static).update(title)
        table = self.query_one("#migrations", DataTable)
        table.clear()
        for rec in reversed(records):
            ok = rec.get("result") == "succeeded"
            seconds = f" {rec['seconds']:.1f}s" if "seconds" in rec else ""
            table.add_row(
                local_time(str(rec.get("ts", ""))),
                str(rec.get("source", "")),
                str(rec.get("target", "")),
                str(rec.get("mode", "")),
                Text(str(rec.get("result", "")) + seconds, style="green" if ok else "red"),
                str(rec.get("actor", "")),
                str(rec.get("error", "")),
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action_allowed(action, parameters, self.rights, [self.vm])

    def action_vm(self, action: str) -> None:
        self.post_message(VmActionRequested(self.vm, action))
