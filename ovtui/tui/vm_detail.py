"""Enter on a VM: its fields and its recent migrations; the VM action keys work here too."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
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
from ovtui.tui.vm_actions import VM_ACTION_BINDINGS, VmActionRequested, action_allowed

MIGRATIONS_SHOWN = 20


def fields_text(vm: VmRow) -> str:
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
    return "\n".join(
        [
            f"{vm.name}  {vm.state}  on {vm.host}  (cluster {vm.cluster}, {vm.datacenter})",
            f"uuid    {vm.uuid}",
            f"size    {vm.vcpus} vCPU · {fmt.gib(vm.memory_mib)} · CPU {load}",
            f"flags   {flags}{'' if vm.persistent else ' · transient'}"
            f"{' · role ' + vm.role if vm.role else ''}{' · ' + groups if groups else ''}",
        ]
    )


class VmDetailScreen(FleetScreen):
    DEFAULT_CSS = """
    VmDetailScreen #fields { height: auto; padding: 0 1; border: round $accent; }
    VmDetailScreen #migrations-title { padding: 0 1; text-style: bold; }
    VmDetailScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "back", tooltip="back to the previous screen"),
        *VM_ACTION_BINDINGS,
    ]
    HELP_TITLE = "VM detail"

    def __init__(self, chrome: Chrome, vm: VmRow, poller: Poller, rights: Rights) -> None:
        super().__init__(chrome)
        self.vm, self.poller, self.rights = vm, poller, rights
        self._migrations: list[dict[str, Any]] | None = None

    def body(self) -> ComposeResult:
        yield Static(fields_text(self.vm), id="fields", markup=False)
        yield Static("Recent migrations (newest first)", id="migrations-title")
        yield DataTable[Cell](id="migrations", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#fields", Static).border_title = f"VM {self.vm.name}"
        table = self.query_one("#migrations", DataTable)
        table.add_columns("Time", "From", "To", "Mode", "Result", "By", "Detail")
        table.focus()
        self.reload()

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
        self.vm = VmRow.from_json(data)
        self.refresh_bindings()  # its state or host may have changed what is offered
        self.query_one("#fields", Static).update(fields_text(self.vm))
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
