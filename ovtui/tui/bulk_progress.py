"""Where a bulk action stands, VM by VM. Esc hides it; the action goes on regardless."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ovtui.tui.bulk_job import BulkJob
from ovtui.tui.nav_table import NavTable


class BulkProgress(ModalScreen[None]):
    DEFAULT_CSS = """
    BulkProgress { align: center middle; }
    BulkProgress > Vertical {
        width: 90%; max-width: 110; height: auto; max-height: 90%; padding: 0 1;
        border: thick $accent; background: $surface;
    }
    BulkProgress #bulk-title { margin: 1 0; text-style: bold; }
    BulkProgress DataTable { height: auto; max-height: 20; }
    BulkProgress #bulk-hint { color: $text-muted; margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("escape,enter", "close", "close")]

    def __init__(self, job: BulkJob) -> None:
        super().__init__()
        self.job = job

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="bulk-title", markup=False)
            yield NavTable(id="bulk-items", cursor_type="row")
            yield Static("Esc: hide (the action goes on)", id="bulk-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("VM", key="vm")
        table.add_column("Host", key="host")
        table.add_column("Outcome", key="status")
        for i, item in enumerate(self.job.items):
            table.add_row(item.vm.name, item.vm.host, item.status, key=str(i))
        self.job.listeners.append(self.redraw)
        self.redraw()

    def on_unmount(self) -> None:
        self.job.listeners.remove(self.redraw)

    def redraw(self) -> None:
        table = self.query_one(DataTable)
        for i, item in enumerate(self.job.items):
            if table.get_cell(str(i), "status") != item.status:
                table.update_cell(str(i), "status", item.status, update_width=True)
        title = self.job.summary.splitlines()[0] if self.job.done else self.job.progress
        self.query_one("#bulk-title", Static).update(title)

    def action_close(self) -> None:
        self.dismiss(None)
