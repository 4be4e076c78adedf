"""Where to migrate a VM: only the other hosts of its cluster that are up, with their headroom."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ovtui.tui import fmt
from ovtui.tui.nav_table import NavTable
from ovtui.tui.rows import FleetData, VmRow


class MigratePicker(ModalScreen[str | None]):
    DEFAULT_CSS = """
    MigratePicker { align: center middle; }
    MigratePicker > Vertical {
        width: 70; max-width: 98%; height: auto; max-height: 90%; padding: 0 1;
        border: thick $accent; background: $surface;
    }
    MigratePicker #picker-title { margin: 1 0; }
    MigratePicker DataTable { height: auto; max-height: 12; }
    MigratePicker #picker-hint { color: $text-muted; margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, vm: VmRow, fleet: FleetData) -> None:
        super().__init__()
        self.vm = vm
        self.targets = fleet.migration_targets(vm)
        self._fleet = fleet

    def compose(self) -> ComposeResult:
        vm = self.vm
        with Vertical():
            yield Static(
                f"Migrate {vm.name} ({vm.vcpus} vCPU, {fmt.gib(vm.memory_mib)}) from {vm.host}, "
                f"cluster {vm.cluster}, to:",
                id="picker-title",
                markup=False,
            )
            yield NavTable(id="targets", cursor_type="row")
            synthetic = any(h.synthetic for h in self.targets)
            hint = "Enter: pick · Esc: cancel · free = left within the cluster's over-commit"
            if synthetic:
                hint += f"\n{fmt.SYNTHETIC_MARK} CPU% is synthetic (demo load model)"
            yield Static(hint, id="picker-hint", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#targets", DataTable)
        table.add_columns("Host", "State", "CPU%", "Free mem", "Fits")
        for host in self.targets:
            free = self._fleet.memory_free_mib(host)
            fits = not self.vm.active or free >= self.vm.memory_mib
            table.add_row(
                host.name,
                fmt.host_state(host.state),
                fmt.bar(host.cpu_usage, host.synthetic),
                fmt.memory(free),
                "yes" if fits else "no: too little memory",
                key=host.name,
            )
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.dismiss(event.row_key.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
