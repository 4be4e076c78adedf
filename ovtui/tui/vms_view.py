"""The VMs tab: every VM, a `/` filter, and the VM actions on the selected row."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Input

from ovtui.tui.columns import VM_COLUMNS, vm_cells
from ovtui.tui.filtering import FilterError, VmFilter, compile_filter
from ovtui.tui.keyed_table import KeyedTable
from ovtui.tui.rows import FleetData, VmRow
from ovtui.tui.vm_actions import VM_ACTION_BINDINGS, VmActionRequested, action_allowed


class VmsView(Widget):
    DEFAULT_CSS = """
    VmsView { height: 1fr; }
    VmsView #vm-filter { display: none; dock: bottom; }
    VmsView #vm-filter.-shown { display: block; }
    VmsView #vm-filter.-invalid { border: tall $error; }
    """
    BINDINGS = [
        Binding("slash", "filter", "filter", key_display="/", tooltip="filter: text, or re:regex"),
        Binding("escape", "clear_filter", "clear filter", show=False),
        *VM_ACTION_BINDINGS,
    ]

    class OpenVm(Message):
        def __init__(self, vm: VmRow) -> None:
            super().__init__()
            self.vm = vm

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.permissions: frozenset[str] = frozenset()
        self.filter: VmFilter | None = None
        self._vms: dict[str, VmRow] = {}

    def compose(self) -> ComposeResult:
        yield KeyedTable(VM_COLUMNS, sort="name", id="vms-table")
        yield Input(placeholder="substring, or re:regex · Enter keeps · Esc clears", id="vm-filter")

    def on_mount(self) -> None:
        self.filter_input.border_title = "filter VMs"

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#vm-filter", Input)

    def show(self, data: FleetData) -> None:
        self._vms = {v.uuid: v for v in data.vms}
        self._sync()

    def _sync(self) -> None:
        keep = self.filter
        self.table.sync({k: vm_cells(v) for k, v in self._vms.items() if keep is None or keep(v)})

    def selected(self) -> VmRow | None:
        key = self.table.cursor_key
        return self._vms.get(key) if key else None

    def set_permissions(self, permissions: frozenset[str]) -> None:
        if permissions != self.permissions:
            self.permissions = permissions
            self.refresh_bindings()  # the footer shows only what this user may do

    # -- keys --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return self.filter_input.has_class("-shown")
        return action_allowed(action, parameters, self.permissions)

    def action_vm(self, action: str) -> None:
        vm = self.selected()
        if vm is None:
            self.notify("no VM selected", severity="warning")
            return
        self.post_message(VmActionRequested(vm, action))

    def action_filter(self) -> None:
        self.filter_input.add_class("-shown")
        self.filter_input.focus()

    def action_clear_filter(self) -> None:
        self.filter_input.value = ""  # Input.Changed resets the filter
        self.filter_input.remove_class("-shown", "-invalid")
        self.filter_input.border_subtitle = ""
        self.filter = None
        self._sync()
        self.table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        try:
            self.filter = compile_filter(event.value)
        except FilterError as exc:
            # Keep the last good filter while a regex is being typed.
            self.filter_input.add_class("-invalid")
            self.filter_input.border_subtitle = str(exc)
            return
        self.filter_input.remove_class("-invalid")
        self.filter_input.border_subtitle = ""
        self._sync()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.action_clear_filter()
        else:
            self.table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        vm = self._vms.get(str(event.row_key.value))
        if vm is not None:
            self.post_message(self.OpenVm(vm))
