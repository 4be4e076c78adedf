"""`?`: the keys of the screen you are on, including those the footer has no room for."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from ovtui.tui.nav_table import NavTable


def _ours(node: object, binding: Binding) -> bool:
    """Declared by an ovtui class? Textual's own keys (focus cycling, copy, ctrl+q, table
    scrolling) are not ours to document; table moves are summed up in _TABLE_KEYS."""
    wanted = (binding.action, binding.description)
    return any(
        isinstance(b, Binding) and (b.action, b.description) == wanted
        for cls in type(node).__mro__
        if cls.__module__.startswith("ovtui.")
        for b in cls.__dict__.get("BINDINGS", ())
    )


_TABLE_KEYS = [
    ("↑ ↓ PgUp PgDn", "move the cursor"),
    ("click header", "sort by that column (again: reverse)"),
]


def keys_of(screen: Screen[object]) -> list[tuple[str, str]]:
    """(key, description) for every binding active on the screen, as the footer would see it."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    table = False
    for active in screen.active_bindings.values():
        binding = active.binding
        table |= isinstance(active.node, DataTable)
        if not _ours(active.node, binding):
            continue
        text = binding.tooltip or binding.description
        if not text or text in seen or not active.enabled:
            continue
        seen.add(text)
        rows.append((screen.app.get_key_display(binding), text))
    return rows + (_TABLE_KEYS if table else [])


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 60; max-width: 95%; height: auto; max-height: 95%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; margin: 1 0; }
    HelpScreen DataTable { height: auto; max-height: 18; }
    """
    BINDINGS = [Binding("escape,question_mark", "dismiss_help", "close", key_display="esc")]

    def __init__(self, title: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text, self.keys = title, keys

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Keys — {self.title_text}   (esc closes)", id="help-title", markup=False)
            yield NavTable(id="help-keys", cursor_type="none", show_header=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("key", "does")
        for key, desc in self.keys:
            table.add_row(key, desc)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
