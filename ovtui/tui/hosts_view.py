"""The Hosts tab: one row per host (all, or one cluster's), Enter opens its detail."""

from __future__ import annotations

from collections import Counter

from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static

from ovtui.tui.columns import HOST_COLUMNS, host_cells
from ovtui.tui.host_actions import HOST_ACTION_BINDINGS, HostActionRequested, host_action_allowed
from ovtui.tui.keyed_table import KeyedTable
from ovtui.tui.rights import Rights
from ovtui.tui.rows import FleetData, HostRow


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

    def compose(self) -> ComposeResult:
        yield Static("", id="host-scope", markup=False)
        yield KeyedTable(HOST_COLUMNS, sort="name", id="hosts-table")

    @property
    def table(self) -> KeyedTable:
        return self.query_one(KeyedTable)

    def show(self, data: FleetData) -> None:
        self._data = data
        self._hosts = {h.name: h for h in data.hosts if self.cluster in (None, h.cluster)}
        defined = Counter(v.host for v in data.vms)
        self.table.sync({n: host_cells(h, defined[n]) for n, h in self._hosts.items()})
        self.refresh_bindings()  # a host entering or leaving maintenance changes its keys

    def set_cluster(self, cluster: str | None) -> None:
        self.cluster = cluster
        scope = self.query_one("#host-scope", Static)
        scope.update(f"cluster {cluster} (:hosts shows all)" if cluster else "")
        scope.set_class(cluster is not None, "-shown")
        self.show(self._data)

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
