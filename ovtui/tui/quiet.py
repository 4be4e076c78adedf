"""Updating a Static (or a table cell) only when what it shows changes.

Static.update() always asks for a layout of the whole screen, even with the same text; the
dashboard's chrome, alerts and trend titles were updated at every poll, so an idle dashboard
re-laid out its screen every 2 s for nothing.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

Content = str | Text


def update(widget: Static, content: Content, *, layout: bool = True) -> bool:
    """True if the widget was updated. `layout=False` where the widget's size cannot follow
    its text (one line of fixed width): then only the widget itself is repainted."""
    if _same(widget.content, content):
        return False
    widget.update(content, layout=layout)
    return True


def same_cell(old: object, new: Content) -> bool:
    """Drawn the same: text, spans and style (Text's own == ignores the style)."""
    return _same(old, new)


def _same(old: object, new: Content) -> bool:
    if type(old) is not type(new):
        return False
    if isinstance(new, Text):
        assert isinstance(old, Text)
        return old.plain == new.plain and old.style == new.style and old.spans == new.spans
    return old == new
