"""Choosing a cluster's policy mode: off, recommend, automatic, or back to the config's."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

CHOICES = {
    "off": "off: no policy rounds",
    "recommend": "recommend: rounds store plans; an operator applies them",
    "automatic": "automatic: rounds apply their plans at once",
}


class ModePicker(ModalScreen[str | None]):
    DEFAULT_CSS = """
    ModePicker { align: center middle; }
    ModePicker > Vertical {
        width: 66; max-width: 95%; height: auto; padding: 0 1;
        border: thick $accent; background: $surface;
    }
    ModePicker #mode-title { margin: 1 0; }
    ModePicker OptionList { height: auto; margin-bottom: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, cluster: str, current: str, config_mode: str) -> None:
        super().__init__()
        self.cluster, self.current, self.config_mode = cluster, current, config_mode

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"Mode of {self.cluster} (now {self.current}) · Enter picks · Esc cancels",
                id="mode-title",
                markup=False,
            )
            options = [Option(text, id=mode) for mode, text in CHOICES.items()]
            back = f"reset: back to the config's mode ({self.config_mode})"
            options.append(Option(back, id="reset"))
            yield OptionList(*options, id="modes")

    def on_mount(self) -> None:
        modes = self.query_one(OptionList)
        modes.highlighted = list(CHOICES).index(self.current) if self.current in CHOICES else 0
        modes.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
