"""A one-line sparkline on a fixed 0..100% scale, as wide as it is given.

Textual's Sparkline scales to its own data, so a flat 53.0-53.4% series fills the line from
bottom to top; an operator reading "is this host busy" needs the level, so the scale is fixed.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

from ovtui.tui.history import spark


class TrendLine(Widget):
    DEFAULT_CSS = "TrendLine { width: 1fr; height: 1; color: $accent; }"

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.values: list[float] = []

    def show(self, values: Sequence[float]) -> None:
        values = list(values)
        if values != self.values:  # the same series: nothing to repaint
            self.values = values
            self.refresh()

    def render(self) -> Text:
        width = max(1, self.content_size.width)
        # The newest sample is at the right edge, whatever the width.
        return Text(spark(self.values, width).rjust(width))
