"""A small modal form: labelled inputs, dismissed with their values (or None on cancel)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


class FieldsForm(ModalScreen[dict[str, str] | None]):
    DEFAULT_CSS = """
    FieldsForm { align: center middle; }
    FieldsForm > Vertical { width: 64; height: auto; padding: 1 2; border: thick $accent;
                            background: $surface; }
    FieldsForm Horizontal { height: auto; align-horizontal: right; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, fields: list[tuple[str, str, str]], ok: str = "OK") -> None:
        """fields: (key, placeholder, default)."""
        super().__init__()
        self.title_text, self.fields, self.ok = title, fields, ok

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text)
            for key, label, default in self.fields:
                yield Input(default, placeholder=label, id=f"f-{key}")
            with Horizontal():
                yield Button(self.ok, variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "ok":
            self.dismiss(None)
            return
        self.dismiss(
            {k: self.query_one(f"#f-{k}", Input).value.strip() for k, _l, _d in self.fields}
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
