"""`:` opens a one-line prompt at the bottom; Tab completes, Enter runs, Esc cancels."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static

from ovtui.tui import commands


class CommandSuggester(Suggester):
    def __init__(self, app: Any) -> None:
        super().__init__(use_cache=False, case_sensitive=True)  # candidates change with the fleet
        self.app = app

    async def get_suggestion(self, value: str) -> str | None:
        return commands.complete(value, self.app)


class CommandPrompt(ModalScreen[str | None]):
    DEFAULT_CSS = """
    CommandPrompt { align: left bottom; background: $background 30%; }
    CommandPrompt #cmd-hint { width: 100%; height: auto; padding: 0 1; background: $panel; }
    CommandPrompt Input { width: 100%; }
    """
    AUTO_FOCUS = "#cmd"
    BINDINGS = [
        Binding("escape", "cancel", "cancel"),
        Binding("tab", "complete", "complete", priority=True),
    ]

    def compose(self) -> ComposeResult:
        hint = "  ".join(f":{n}" for n in commands.names())
        yield Static(f"{hint}   (Tab completes · Esc cancels)", id="cmd-hint", markup=False)
        yield Input(placeholder="command", id="cmd", suggester=CommandSuggester(self.app))

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    def action_complete(self) -> None:
        done = commands.complete(self.input.value, self.app)
        if done is not None:
            self.input.value = done
            self.input.cursor_position = len(done)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)
