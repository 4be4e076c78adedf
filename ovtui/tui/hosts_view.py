"""The Hosts tab: one row per host (all, or one cluster's), Enter opens its detail.

The table is a VirtualTable with this view as its row source: every host's CPU figure moves at
each engine reading, so formatting every host's row (500 on a large fleet) and comparing them
cell by cell was most of a reading; a row's cells are made when it is drawn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any

from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static

from ovtui.tui import fmt
from ovtui.tui.columns import HOST_COLUMNS, host_cells, host_widths
from ovtui.tui.host_actions import HOST_ACTION_BINDINGS, HostActionRequested, host_action_allowed
from ovtui.tui.keyed_table import Cell
from ovtui.tui.rights import Rights
from ovtui.tui.rows import FleetData, HostRow, VmRow
from ovtui.tui.virtual_table import VirtualTable

_HOST = attrgetter("host")
_COLUMN = {c.key: i for i, c in enumerate(HOST_COLUMNS)}


class HostsView(Widget):
    DEFAULT_CSS = """
    HostsView { height: 1fr; }
    HostsView #host-scope { display: none; height: 1; padding: 0 1; background: $boost; }
    HostsView #host-scope.-shown { display: block; }
    """
    BINDINGS = [*HOST_ACTION_BINDINGS]

    class OpenHost(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self) -> None:
        super().__init__()
        self.rights = Rights()
        self.cluster: str | None = None
        self._hosts: dict[str, HostRow] = {}
        self._data = FleetData()
        self._shown: FleetData | None = None
        self._cells: dict[str, tuple[HostRow, int, list[Cell]]] = {}  # name -> what made them
        self._defined: Counter[str] = Counter()
        self._defined_of: tuple[VmRow, ...] | None = None
        self._widths: dict[str, int] = {}
        self.version = 0  # the rows' sort keys may have changed (virtual_table.RowSource)
        self.made = 0  # rows formatted (tests count them)
        self.live = True  # see VmsView.live

    def compose(self) -> ComposeResult:
        yield Static("", id="host-scope", markup=False)
        yield VirtualTable(HOST_COLUMNS, sort="name", id="hosts-table")

    @property
    def table(self) -> VirtualTable:
        return self.query_one(VirtualTable)

    def show(self, data: FleetData) -> None:
        self._data = data
        if self.live or self._shown is None:
            self._sync()

    def set_live(self, live: bool) -> None:
        self.live = live
        if live and self._shown is not self._data:
            self._sync()

    def _sync(self) -> None:
        data = self._shown = self._data
        if data.vms is not self._defined_of:  # counted again only when the VMs were read
            self._defined, self._defined_of = Counter(map(_HOST, data.vms)), data.vms
        old = self._hosts
        self._hosts = {h.name: h for h in data.hosts if self.cluster in (None, h.cluster)}
        self._widths = host_widths(self._hosts.values(), self._defined)
        self.version += 1
        self.table.show_rows(self._hosts.keys(), self)
        if len(self._cells) > len(self._hosts):
            self._cells = {k: c for k, c in self._cells.items() if k in self._hosts}
        if any(_keys_of(h) != _keys_of(old.get(n)) for n, h in self._hosts.items()):
            self.refresh_bindings()  # a host entering or leaving maintenance changes its keys

    # -- the table's row source (virtual_table.RowSource) -----------------------------------
    def all_keys(self) -> Iterable[str]:
        return self._hosts.keys()

    def cells(self, key: str) -> Sequence[Cell]:
        host, defined = self._hosts[key], self._defined[key]
        made = self._cells.get(host.name)
        if made is not None and made[1] == defined and (made[0] is host or made[0] == host):
            return made[2]
        self.made += 1
        cells = host_cells(host, defined)
        if made is not None and all(a == b for a, b in zip(made[2], cells, strict=True)):
            cells = made[2]  # drawn the same (CPU moved within its rounding): not drawn again
        self._cells[host.name] = (host, defined, cells)
        return cells

    def sort_keys(self, keys: list[str], column: str) -> list[tuple[Any, ...]]:
        if column == "name":
            return [(k.lower(),) for k in keys]
        at = _COLUMN[column]  # from the cells (what a sort by this column formats, per reading)
        return [fmt.sort_key_of(self.cells(k)[at]) for k in keys]

    def widths(self) -> Mapping[str, int]:
        return self._widths

    def set_cluster(self, cluster: str | None) -> None:
        self.cluster = cluster
        scope = self.query_one("#host-scope", Static)
        scope.update(f"cluster {cluster} (:hosts shows all)" if cluster else "")
        scope.set_class(cluster is not None, "-shown")
        self._sync()

    def set_rights(self, rights: Rights) -> None:
        if rights != self.rights:
            self.rights = rights
            self.refresh_bindings()

    def selected(self) -> HostRow | None:
        key = self.table.cursor_key
        return self._hosts.get(key) if key else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return host_action_allowed(action, parameters, self.rights, self.selected())

    def action_host(self, action: str) -> None:
        host = self.selected()
        if host is not None:
            self.post_message(HostActionRequested(host, action))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()  # grants may differ per cluster: keys follow the cursor

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.OpenHost(event.row_key.value))


def _keys_of(host: HostRow | None) -> tuple[object, ...]:
    """What the host's action keys depend on."""
    return () if host is None else (host.state, host.maintenance, host.cluster)
