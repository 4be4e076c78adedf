"""The Events tab: the engine's event stream, newest last, fetched incrementally."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import DataTable, Static

from ovtui.tui.keyed_table import Cell
from ovtui.tui.nav_table import NavTable

MAX_ROWS = 1000  # older rows are dropped: the engine keeps the full log
TRIM_SLACK = 200  # ... once this many more have come
KIND_STYLE = {"host": "cyan", "vm": "green", "migration": "magenta", "policy": "yellow"}


def local_time(ts: str) -> str:
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return ts[:19]


class EventsView(Widget):
    DEFAULT_CSS = """
    EventsView { height: 1fr; }
    EventsView #events-denied { display: none; padding: 1 2; color: $warning; }
    """

    def compose(self) -> ComposeResult:
        yield NavTable(id="events-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="events-denied", markup=False)

    @property
    def table(self) -> DataTable[Cell]:
        return self.query_one("#events-table", DataTable)

    def on_mount(self) -> None:
        self.table.add_column("Time", key="time")
        self.table.add_column("Kind", key="kind")
        self.table.add_column("Host", key="host")
        self.table.add_column("VM", key="vm")
        self.table.add_column("What", key="what")
        self.table.add_column("Detail", key="detail")

    def add(self, events: list[dict[str, Any]]) -> None:
        table = self.table
        follow = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        for ev in events:
            key = str(ev.get("seq", table.row_count))
            if key in table.rows:
                continue
            kind = str(ev.get("kind", ""))
            detail = str(ev.get("detail") or "")
            error = bool(detail) and "fail" in str(ev.get("what", ""))
            table.add_row(
                local_time(str(ev.get("ts", ""))),
                Text(kind, style=KIND_STYLE.get(kind, "")),
                str(ev.get("host") or ""),
                str(ev.get("vm") or ""),
                Text(str(ev.get("what", "")), style="red" if error else ""),
                detail,
                key=key,
            )
        if table.row_count > MAX_ROWS + TRIM_SLACK:
            self._keep_newest(table)
        if follow and table.row_count:
            # Newest last, and stay at the bottom while the user has not scrolled away.
            table.move_cursor(row=table.row_count - 1)

    def _keep_newest(self, table: DataTable[Cell]) -> None:
        # In one pass: removing the oldest rows one by one cost a pass over the table each
        # (a busy 20 000-VM fleet brings a few hundred events a poll).
        keep = [(row.key, table.get_row(row.key)) for row in table.ordered_rows[-MAX_ROWS:]]
        cursor = max(0, table.cursor_row - (table.row_count - len(keep)))
        table.clear()
        for key, cells in keep:
            table.add_row(*cells, key=key.value)
        table.move_cursor(row=cursor)

    def deny(self, message: str) -> None:
        self.table.display = False
        denied = self.query_one("#events-denied", Static)
        denied.update(f"Events are not shown: {message}")
        denied.display = True
