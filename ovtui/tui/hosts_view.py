"""The Hosts tab: one row per host, Enter opens its detail."""

from __future__ import annotations

from collections import Counter

from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable

from ovtui.tui.columns import HOST_COLUMNS, host_cells
from ovtui.tui.keyed_table import KeyedTable
from ovtui.tui.rows import FleetData


class HostsView(Widget):
    DEFAULT_CSS = "HostsView { height: 1fr; }"

    class OpenHost(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def compose(self) -> ComposeResult:
        yield KeyedTable(HOST_COLUMNS, sort="name", id="hosts-table")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    def show(self, data: FleetData) -> None:
        defined = Counter(v.host for v in data.vms)
        self.table.sync({h.name: host_cells(h, defined[h.name]) for h in data.hosts})

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.OpenHost(event.row_key.value))
