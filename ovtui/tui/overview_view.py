"""The Overview tab: alerts, then the fleet as a tree with load bars and recent trends.

The two trend lines at the bottom follow the cursor: the whole short history (History.samples
polls) of CPU and committed memory for that data center, cluster or host.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static

from ovtui.tui import quiet
from ovtui.tui.alerts import Alert, summary_line
from ovtui.tui.fmt import SYNTHETIC_MARK
from ovtui.tui.history import History
from ovtui.tui.overview_rows import OVERVIEW_COLUMNS, VmCounts
from ovtui.tui.overview_source import OverviewSource
from ovtui.tui.rows import FleetData
from ovtui.tui.trend_line import TrendLine
from ovtui.tui.virtual_table import VirtualTable

ALERTS_SHOWN = 3
_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


class TreeTable(VirtualTable):
    """A VirtualTable that stays in tree order: no sorting by other columns."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action not in ("cycle_sort", "reverse_sort")

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()


class OverviewView(Widget):
    DEFAULT_CSS = """
    OverviewView { height: 1fr; }
    OverviewView #alerts { height: auto; max-height: 4; padding: 0 1; }
    OverviewView TreeTable { height: 1fr; }
    OverviewView #trend { height: 3; padding: 0 1; }
    OverviewView #trend-title { color: $text-muted; height: 1; }
    OverviewView .spark-row { height: 1; }
    OverviewView .spark-label { width: 5; }
    """

    class OpenGroup(Message):
        """Enter on a data center or cluster row: its hosts."""

        def __init__(self, path: list[str]) -> None:
            super().__init__()
            self.path = path

    def __init__(self) -> None:
        super().__init__()
        self.history = History()
        self.synthetic: dict[str, bool] = {}
        self.live = True  # see VmsView.live
        self._pending: tuple[FleetData, History, list[Alert]] | None = None
        self._filled = False
        self._counts = VmCounts()  # per host, counted once per VM list
        self.rows = OverviewSource()  # the table's rows, made when drawn
        self._alerts_pending: list[Alert] | None = None

    def compose(self) -> ComposeResult:
        yield Static("no alerts", id="alerts")
        yield TreeTable(OVERVIEW_COLUMNS, sort="name", id="overview-table")
        with Vertical(id="trend"):
            yield Static("", id="trend-title", markup=False)
            with Horizontal(classes="spark-row"):
                yield Static("CPU", classes="spark-label")
                yield TrendLine(id="spark-cpu")
            with Horizontal(classes="spark-row"):
                yield Static("Mem", classes="spark-label")
                yield TrendLine(id="spark-memory")

    @property
    def table(self) -> TreeTable:
        return self.query_one(TreeTable)

    def show(self, fleet: FleetData, history: History, alerts: list[Alert]) -> None:
        if self.live or not self._filled:
            self._show(fleet, history, alerts)
        else:
            self._pending = (fleet, history, alerts)

    def show_alerts(self, alerts: list[Alert]) -> None:
        """A poll where the fleet did not change: only the alerts may have."""
        if self._pending is not None:
            self._pending = (*self._pending[:2], alerts)
        elif self.live or not self._filled:
            self._show_alerts(alerts)
        else:
            self._alerts_pending = alerts

    def set_live(self, live: bool) -> None:
        self.live = live
        if live and self._pending is not None:
            self._show(*self._pending)
        elif live and self._alerts_pending is not None:
            self._show_alerts(self._alerts_pending)

    def _show(self, fleet: FleetData, history: History, alerts: list[Alert]) -> None:
        self._pending, self._filled = None, True
        self.history = history
        self.synthetic = {h.name: h.synthetic for h in fleet.hosts}
        self.rows.update(fleet, history, self._counts)
        self.table.show_rows(self.rows.all_keys(), self.rows)
        self._show_alerts(alerts)
        self._show_trend()

    def _show_alerts(self, alerts: list[Alert]) -> None:
        self._alerts_pending = None
        text = Text(f"Alerts: {summary_line(alerts)}", style="bold" if alerts else "green")
        ranked = sorted(alerts, key=lambda a: list(_STYLE).index(a.severity))
        for alert in ranked[:ALERTS_SHOWN]:
            text.append("\n  " + alert.text, style=_STYLE.get(alert.severity, ""))
        if len(alerts) > ALERTS_SHOWN:
            text.append(f"  (+{len(alerts) - ALERTS_SHOWN} more)", style="dim")
        quiet.update(self.query_one("#alerts", Static), text)

    @property
    def alerts_text(self) -> str:
        return str(self.query_one("#alerts", Static).render())

    def _show_trend(self) -> None:
        key = self.table.cursor_key
        if key is None:
            return
        cpu = list(self.history.cpu.get(key, ()))
        memory = list(self.history.memory.get(key, ()))
        synthetic = any(self.synthetic.get(h, False) for h in self._hosts_under(key))
        mark = f" · CPU {SYNTHETIC_MARK}SYNTHETIC (demo load model)" if synthetic else ""
        title = f"{key}: last {len(cpu)} polls, 0-100%{mark}"
        # One line (its "last N polls" moves at each reading): repainted, never laid out.
        quiet.update(self.query_one("#trend-title", Static), title, layout=False)
        self.query_one("#spark-cpu", TrendLine).show(cpu)
        self.query_one("#spark-memory", TrendLine).show(memory)

    def _hosts_under(self, key: str) -> list[str]:
        depth = key.count("/")
        if depth == 2:
            return [key.rsplit("/", 1)[1]]
        prefix = key + "/"
        return [k.rsplit("/", 1)[1] for k in self.table.keys if k.startswith(prefix)]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_trend()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.OpenGroup(str(event.row_key.value).split("/")))
