"""The VMs tab: every VM, a `/` filter, a cluster scope, a selection, and the VM actions.

Space selects rows (ctrl+a: every row shown); the action keys then act on the selection, with
one confirmation, instead of on the cursor's VM. The selection is a set of UUIDs, so refreshes,
sorting and filtering keep it.

At fleet scale (20 000 VMs) a refresh must cost little: the table holds only the order of the
rows (sorted and filtered on the VmRow fields themselves) and a VM's cells are made only when
its row is drawn, again only when its row from the engine changed; the table is synced only
while the tab is shown (a hidden tab catches up when it is shown again), and the filter is
applied once typing pauses.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from ovtui.tui import quiet
from ovtui.tui.columns import VM_COLUMNS, VM_SORT_KEYS, vm_cells, vm_widths
from ovtui.tui.filter_box import show_problem
from ovtui.tui.filtering import FilterError, VmFilter, compile_filter
from ovtui.tui.keyed_table import Cell
from ovtui.tui.nav_table import put
from ovtui.tui.rights import Rights
from ovtui.tui.rows import FleetData, VmRow
from ovtui.tui.virtual_table import VirtualTable
from ovtui.tui.vm_actions import VM_ACTION_BINDINGS, VmActionRequested, action_allowed

CELLS_KEPT = 2000  # rows whose cells are kept: a few screenfuls at 50 lines
FILTER_PAUSE = 0.06  # s after the last key before the filter is applied (typing stays smooth)


class BulkActionRequested(Message):
    def __init__(self, vms: list[VmRow], action: str) -> None:
        super().__init__()
        self.vms, self.action = vms, action


class VmsView(Widget):
    DEFAULT_CSS = """
    VmsView { height: 1fr; }
    VmsView #vm-scope { display: none; height: 1; padding: 0 1; background: $boost; }
    VmsView #vm-scope.-shown { display: block; }
    VmsView #vm-filter { display: none; dock: bottom; }
    VmsView #vm-filter.-shown { display: block; }
    VmsView #vm-filter.-invalid { border: tall $error; }
    """
    BINDINGS = [
        Binding("slash", "filter", "filter", key_display="/", tooltip="filter: text, or re:regex"),
        Binding("escape", "clear", "clear", show=False, tooltip="clear the filter or selection"),
        Binding("space", "toggle_select", "select", tooltip="select the VM (for bulk actions)"),
        Binding("ctrl+a", "select_all", "all", show=False, tooltip="select every VM shown"),
        *VM_ACTION_BINDINGS,
    ]

    class OpenVm(Message):
        def __init__(self, vm: VmRow) -> None:
            super().__init__()
            self.vm = vm

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rights = Rights()
        self.filter: VmFilter | None = None
        self.cluster: str | None = None
        self.selection: set[str] = set()
        self._vms: dict[str, VmRow] = {}
        self._read: tuple[VmRow, ...] | None = None  # the poll's VMs last shown
        # uuid -> what made its cells, and them: the rows drawn lately (a VM that is gone or
        # scrolled past long ago is forgotten in time).
        self._cells: LRUCache[str, tuple[VmRow, bool, list[Cell]]] = LRUCache(CELLS_KEPT)
        self._widths: dict[str, int] = {}
        self._changed = True  # rows' content changed since the table was last given them
        self._where: tuple[str, ...] | None = None  # the cursor's VM, as its keys were offered
        self.version = 0  # moves when the rows' order may have (see VirtualTable)
        self.live = True  # synced at each poll; the dashboard clears it while the tab is hidden
        self._stale = False
        self._filter_timer: Timer | None = None
        self._pending: VmFilter | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="vm-scope", markup=False)
        yield VirtualTable(VM_COLUMNS, sort="name", id="vms-table")
        yield Input(placeholder="substring, or re:regex · Enter keeps · Esc clears", id="vm-filter")

    def on_mount(self) -> None:
        self.filter_input.border_title = "filter VMs"

    @property
    def table(self) -> VirtualTable:
        return self.query_one(VirtualTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#vm-filter", Input)

    def show(self, data: FleetData) -> None:
        if data.vms is self._read:
            return  # the poll did not read the VMs anew: nothing to compare
        first = self._read is None
        self._read = data.vms
        old, self._vms = self._vms, {v.uuid: v for v in data.vms}
        if first or old.keys() != self._vms.keys():
            self._widths = vm_widths(self._vms.values())
            self.version += 1
        else:
            # The same VMs, some changed (a delta read names few at 20 000): widths and sort
            # from those only. Widths only grow (as the table's), the order stays unless a
            # changed VM moved in the column sorted by or in the name the ties break on.
            changed = [v for u, v in self._vms.items() if old[u] is not v]
            for key, width in vm_widths(changed).items():
                self._widths[key] = max(width, self._widths.get(key, 0))
            by = {VM_SORT_KEYS["name"], VM_SORT_KEYS[self.table.sort_column or "name"]}
            if any(key_of(v) != key_of(old[v.uuid]) for v in changed for key_of in by):
                self.version += 1
        self._changed = True
        self.selection &= self._vms.keys()  # a VM that is gone is no longer selected
        if self.live or first:  # the first poll fills every tab: switching to it is instant
            self._sync()
        else:
            self._stale = True

    def set_live(self, live: bool) -> None:
        self.live = live
        if live and self._stale:
            self._sync()

    # -- the table's row source (virtual_table.RowSource) -----------------------------------
    def all_keys(self) -> Iterable[str]:
        return self._vms.keys()

    def cells(self, key: str) -> Sequence[Cell]:
        return self._cells_of(self._vms[key], key in self.selection)

    def sort_keys(self, keys: list[str], column: str) -> list[tuple[Any, ...]]:
        key_of, vms = VM_SORT_KEYS[column], self._vms
        return [key_of(vms[k]) for k in keys]

    def widths(self) -> Mapping[str, int]:
        return self._widths

    def _cells_of(self, vm: VmRow, selected: bool) -> list[Cell]:
        made = self._cells.get(vm.uuid)
        if made is not None and made[1] == selected and (made[0] is vm or made[0] == vm):
            return made[2]  # the same list object: the table's render cache keeps its cells
        cells = vm_cells(vm, selected)
        if made is not None:  # the same cell objects where only another column changed
            cells = [a if quiet.same_cell(a, b) else b for a, b in zip(made[2], cells, strict=True)]
            if all(map(operator.is_, cells, made[2])):
                # Drawn the same (a CPU figure that moved within its rounding): the same list,
                # so the table does not draw the row again.
                cells = made[2]
        put(self._cells, vm.uuid, (vm, selected, cells))
        return cells

    def shown(self, vm: VmRow) -> bool:
        return (self.cluster in (None, vm.cluster)) and (self.filter is None or self.filter(vm))

    def _sync(self) -> None:
        self._stale = False
        if self.cluster is None and self.filter is None:
            keys: list[str] = list(self._vms)
        else:
            keys = [k for k, v in self._vms.items() if self.shown(v)]
        self.table.show_rows(keys, self, changed=self._changed)
        self._changed = False
        self._show_scope()
        where = _where(self.selected())
        if where != self._where and not self.selection:
            self._where = where  # the keys offered depend on where the cursor's VM is
            self.refresh_bindings()

    def _show_scope(self) -> None:
        parts = []
        if self.cluster:
            parts.append(f"cluster {self.cluster} (:vms shows all)")
        if self.selection:
            parts.append(f"{len(self.selection)} selected — keys act on all; esc clears")
        scope = self.query_one("#vm-scope", Static)
        quiet.update(scope, " · ".join(parts))
        scope.set_class(bool(parts), "-shown")

    def set_cluster(self, cluster: str | None) -> None:
        self.cluster = cluster
        self._sync()

    def selected(self) -> VmRow | None:
        key = self.table.cursor_key
        return self._vms.get(key) if key else None

    def targets(self) -> list[VmRow]:
        """What the action keys act on: the selection, else the cursor's VM."""
        if self.selection:
            return [self._vms[k] for k in self.table.keys if k in self.selection] + [
                v for k, v in self._vms.items() if k in self.selection and not self.shown(v)
            ]
        vm = self.selected()
        return [vm] if vm else []

    def set_rights(self, rights: Rights) -> None:
        if rights != self.rights:
            self.rights = rights
            self.refresh_bindings()  # the footer shows only what this user may do

    # -- keys --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear":
            return self.filter_input.has_class("-shown") or bool(self.selection)
        if action == "vm" and parameters == ("migrate",) and self.selection:
            return None  # shown but disabled: migrations go one VM at a time
        return action_allowed(action, parameters, self.rights, self.targets())

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Grants can differ per cluster or host: what is offered follows the cursor.
        if not self.selection:
            self._where = _where(self.selected())
            self.refresh_bindings()

    def action_vm(self, action: str) -> None:
        targets = self.targets()
        if not targets:
            self.notify("no VM selected", severity="warning")
        elif self.selection:
            self.post_message(BulkActionRequested(targets, action))
        else:
            self.post_message(VmActionRequested(targets[0], action))

    def action_toggle_select(self) -> None:
        key = self.table.cursor_key
        if key is None:
            return
        self.selection ^= {key}
        self._changed_selection()
        if self.table.cursor_row < self.table.row_count - 1:
            self.table.move_cursor(row=self.table.cursor_row + 1)  # as in mc: on to the next

    def action_select_all(self) -> None:
        shown = set(self.table.keys)
        all_in = shown <= self.selection  # then ctrl+a again unselects them
        self.selection = self.selection - shown if all_in else self.selection | shown
        self._changed_selection()

    def clear_selection(self) -> None:
        self.selection = set()
        self._changed_selection()

    def _changed_selection(self) -> None:
        self._changed = True  # the selected rows' names are drawn highlighted
        self._sync()
        self.refresh_bindings()

    def action_clear(self) -> None:
        if self.filter_input.has_class("-shown"):
            self.action_clear_filter()
        else:
            self.clear_selection()

    def action_filter(self) -> None:
        self.filter_input.add_class("-shown")
        self.filter_input.focus()

    def action_clear_filter(self) -> None:
        self._cancel_pending()
        self.filter_input.value = ""  # Input.Changed resets the filter
        self.filter_input.remove_class("-shown")
        show_problem(self.filter_input, None)
        self.filter = None
        self._sync()
        self.table.focus()
        self.refresh_bindings()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        try:
            wanted = compile_filter(event.value)
        except FilterError as exc:
            show_problem(self.filter_input, str(exc))
            return
        show_problem(self.filter_input, None)
        if (wanted and wanted.text) == (self.filter and self.filter.text):
            self._cancel_pending()
            return
        # Applied when typing pauses: each key would otherwise re-filter the whole fleet.
        self._cancel_pending()
        self._pending = wanted
        self._filter_timer = self.set_timer(FILTER_PAUSE, self._apply_pending)

    def _apply_pending(self) -> None:
        self._filter_timer = None
        self.filter = self._pending
        self._sync()

    def _cancel_pending(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.action_clear_filter()
            return
        if self._filter_timer is not None:  # Enter applies what was typed at once
            self._cancel_pending()
            self._apply_pending()
        self.table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        vm = self._vms.get(str(event.row_key.value))
        if vm is not None:
            self.post_message(self.OpenVm(vm))


def _where(vm: VmRow | None) -> tuple[str, ...] | None:
    return None if vm is None else (vm.uuid, vm.host, vm.cluster, vm.datacenter)
