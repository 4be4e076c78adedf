"""NavTable draws one-line Text cells itself: exactly what DataTable's own path draws.

Compared segment by segment (text and style, after merging equal neighbours) for cells with and
without spans and styles, under the cursor and not, on both zebra stripes; and the cells it
leaves to DataTable (too wide, several lines, justified, plain strings) are left.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from ovtui.tui.fmt import bar, host_state
from ovtui.tui.nav_table import NavTable

CELLS = [
    bar(0.47, True),
    host_state("up"),
    Text("plain"),
    Text.assemble(("kvm", "bold"), "-", ("a01", "red on blue")),
    Text("italic, spans", style="italic").append(" more", style="green"),
    Text(""),
]


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield NavTable(cursor_type="row", zebra_stripes=True)


def _merged(lines: list[list[Segment]]) -> list[tuple[str, object]]:
    return [(s.text, s.style) for line in lines for s in Segment.simplify(line)]


async def test_one_line_cells_are_drawn_as_datatable_draws_them() -> None:
    app = _Host()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(NavTable)
        table.add_column("a", width=24)
        for i, cell in enumerate(CELLS):
            table.add_row(cell, key=str(i))
        await pilot.pause()
        base = table.rich_style
        for row, cell in enumerate(CELLS):
            for cursor, hover in ((False, False), (True, False), (False, True)):
                ours = table._one_line_cell(cell, row, 0, base, 24, cursor, hover)
                theirs = DataTable._render_cell(table, row, 0, base, 24, cursor, hover)
                assert ours is not None, cell
                assert _merged(ours) == _merged(theirs), (cell, cursor, hover)


async def test_other_cells_are_left_to_datatable() -> None:
    app = _Host()
    async with app.run_test(size=(100, 20)) as pilot:
        table = app.query_one(NavTable)
        table.add_column("a", width=8)
        table.add_row("x", key="0")
        await pilot.pause()
        base = table.rich_style
        for cell in (
            Text("much wider than eight"),
            Text("two\nlines"),
            Text("right", justify="right"),
            Text("a\ttab"),
            "a string",
        ):
            assert table._one_line_cell(cell, 0, 0, base, 8, False, False) is None, cell
