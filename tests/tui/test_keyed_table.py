"""KeyedTable without an engine: in-place updates, added and removed rows, sorting, cursor."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from ovtui.tui import fmt
from ovtui.tui.keyed_table import Cell, Col, KeyedTable

COLS = (Col("name", "Name"), Col("load", "Load"))


def rows(**loads: float) -> dict[str, list[Cell]]:
    return {name: [name, fmt.percent(load, synthetic=True)] for name, load in loads.items()}


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(COLS, sort="name")


async def test_sync_updates_in_place_and_keeps_the_cursor_on_its_row() -> None:
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(KeyedTable)
        table.sync(rows(c=0.3, a=0.1, b=0.2, d=0.4))
        assert table.keys == ["a", "b", "c", "d"]
        table.select_key("c")
        table.sync(rows(c=0.9, b=0.2, d=0.4, e=0.5))  # a removed, e added, c changed
        await pilot.pause()
        assert table.keys == ["b", "c", "d", "e"]
        assert table.cursor_key == "c"
        assert str(table.get_cell("c", "load")) == " 90%*"
        table.sort_by("load", reverse=True)
        assert table.keys == ["c", "e", "d", "b"] and table.cursor_key == "c"
        table.sync(rows(c=0.1, b=0.2, d=0.4, e=0.5))  # the sort column changed: re-sorted
        assert table.keys == ["e", "d", "b", "c"] and table.cursor_key == "c"
        table.sync({})
        assert table.row_count == 0 and table.cursor_key is None


async def test_header_click_sorts_then_reverses() -> None:
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(KeyedTable)
        table.sync(rows(a=0.5, b=0.1, c=0.9))
        await pilot.pause()
        table.post_message(table.HeaderSelected(table, table.columns["load"].key, 1, None))  # type: ignore[index]
        await pilot.pause()
        assert table.keys == ["b", "a", "c"]
        assert str(table.columns["load"].label).startswith("Load")  # type: ignore[index]
        table.sort_by("load")
        assert table.keys == ["c", "a", "b"]


async def test_redrawn_lines_reuse_the_components_styles_until_the_theme_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each drawn line worked out the header's and the row's Rich styles anew (a walk up the
    # ancestors each): most of a redraw's cost once the cells are cached.
    from textual.css.styles import RenderStyles
    from textual.widgets import DataTable

    worked_out: list[int] = []
    real = RenderStyles.rich_style.fget
    assert real is not None
    monkeypatch.setattr(
        RenderStyles, "rich_style", property(lambda s: worked_out.append(1) or real(s))
    )
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(KeyedTable)
        table.sync(rows(**{f"h{i:02d}": i / 100 for i in range(30)}))
        await pilot.pause()
        worked_out.clear()
        table.sync(rows(**{f"h{i:02d}": (i + 1) / 100 for i in range(30)}))  # every row moved
        await pilot.pause()
        assert worked_out == []
        styles = table.get_component_styles("datatable--even-row").rich_style
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        fresh = DataTable.get_component_styles(table, "datatable--even-row")
        assert table.get_component_styles("datatable--even-row").rich_style == real(fresh)
        assert real(fresh) != styles  # the theme did change it, and the table followed
