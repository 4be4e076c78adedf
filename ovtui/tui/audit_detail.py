"""Enter on an audit record: every field, its parameters, and whether its hash still matches."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ovtui.tui.audit_rows import detail_text


class AuditDetail(ModalScreen[None]):
    DEFAULT_CSS = """
    AuditDetail { align: center middle; }
    AuditDetail > VerticalScroll {
        width: 100; max-width: 98%; height: auto; max-height: 95%; padding: 0 1;
        border: thick $accent; background: $surface;
    }
    """
    BINDINGS = [Binding("escape,enter", "close", "close", key_display="esc")]

    def __init__(self, record: dict[str, Any]) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        with VerticalScroll() as box:
            box.border_title = f"audit record {self.record.get('seq', '?')}"
            yield Static(detail_text(self.record), id="audit-record", markup=False)

    @property
    def text(self) -> str:
        return detail_text(self.record)

    def action_close(self) -> None:
        self.dismiss(None)
