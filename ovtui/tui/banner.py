"""The connection banner: shown while the engine cannot be reached, hidden once it answers."""

from __future__ import annotations

from textual.widgets import Static


class ConnectionBanner(Static):
    DEFAULT_CSS = """
    ConnectionBanner {
        display: none; height: auto; max-height: 3; padding: 0 1;
        background: $error; color: $text; text-style: bold;
    }
    ConnectionBanner.-shown { display: block; }
    """

    def show_problem(self, text: str) -> None:
        self.update(text)
        self.add_class("-shown")

    def clear(self) -> None:
        self.remove_class("-shown")

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")
