"""The `/` filter box of a table: how a filter that does not parse is shown."""

from __future__ import annotations

from textual.widgets import Input


def show_problem(box: Input, problem: str | None) -> None:
    """Marks the box and says why under it; the last good filter stays applied meanwhile
    (a regex is invalid while it is being typed)."""
    box.set_class(problem is not None, "-invalid")
    box.border_subtitle = problem or ""
