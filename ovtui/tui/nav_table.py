"""The dashboard's base table: DataTable with the keys of less and k9s, and bounded memory.

`G`/`End` go to the last row, `g`/`Home` to the first (DataTable's own Home/End move between
columns, which a row cursor has no use for); ctrl+End/ctrl+Home stay as DataTable has them.

DataTable caches what it rendered (cells, rows, lines) under keys that include a counter of
changes to the table, so every change makes all of it dead; yet the caches keep it until they
are full (10 000 cells per table). Polled every 2 s, each table grew by a screenful of dead
renders per poll. Here the first line drawn after a change drops them.

For the same reason a poll that changed one cell made DataTable render every visible cell
again. Cells are rendered here through a cache keyed by the cell's value (the object: a view
that re-formats only changed rows hands the table the same objects) and where it is drawn, so
only the cells that changed are rendered again. DataTable's own copies of those cells (and the
row renderables they were made from) are not kept: they held the cells changed at the last poll,
so the caches' size went up and down by a screenful with what the poll changed.

Drawing one line, DataTable works out the Rich style of its header and row components again
(each a walk up the widget's ancestors, twice a line): most of a redrawn line's cost once its
cells are cached. Here a component's styles are worked out once per style state of the table
and kept until its styles change (notify_style_update, as DataTable's own caches).

A cell that is one line of Text that fits is drawn here in a few steps, with what DataTable's
Rich path (Styled over Padding over the Text) would draw: each engine reading changes two cells
per overview row (load bar, trend), and Rich's general path was a third of a redrawn row.

Rendered cells are kept across focus changes: their key holds the table's pseudo-classes
(focus, hover) and base style, so a table losing and regaining focus (`/` then Esc, a tab
switch) finds the cells it drew before. Only a theme change empties them (DataTable's own
style update empties its caches at every focus change, and all 400 cells of a 200x50 screen
were rendered again: most of Esc's 230-330 ms at 1 000 VMs).
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.color import Color
from textual.coordinate import Coordinate
from textual.css.styles import RenderStyles
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

Cell = str | Text
SegmentLines = list[list[Segment]]
CELLS_DRAWN = 4096  # rendered cells kept: a few screenfuls at 200 columns


class _KeptStyle(RenderStyles):
    """A component's styles whose Rich style was worked out once (RenderStyles works it out
    from the ancestors at each read)."""

    _kept: Style

    @classmethod
    def of(cls, styles: RenderStyles) -> RenderStyles:
        style = styles.rich_style
        styles.__class__ = cls
        assert isinstance(styles, _KeptStyle)
        styles._kept = style
        return styles

    @property
    def rich_style(self) -> Style:
        return self._kept


def put(cache: LRUCache[Any, Any], key: object, value: object) -> None:
    """cache[key] = value, also for a key already there (LRUCache.set keeps the old value:
    a changed cell was rendered again at every frame)."""
    cache.discard(key)
    cache[key] = value


class NavTable(DataTable[Cell]):
    BINDINGS = [
        Binding("G,end", "scroll_bottom", "last", show=False, key_display="G/end",
                tooltip="go to the last row"),
        Binding("g,home", "scroll_top", "first", show=False, key_display="g/home",
                tooltip="go to the first row"),
    ]  # fmt: skip

    _drawn_at = -1  # DataTable's change counter when the render caches were last known live
    _drawn_theme: object = None  # the app's theme the kept cells were rendered in
    _components: dict[tuple[object, ...], RenderStyles] = {}  # see get_component_styles

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._components = {}
        self._cells_drawn: LRUCache[tuple[object, ...], tuple[object, SegmentLines]] = LRUCache(
            CELLS_DRAWN
        )

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        if row_index < 0 or column_index < 0:  # header and row labels: few, and rarely drawn
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        assert row_key is not None and column_key is not None  # indices come from the table
        value = self._data[row_key][column_key]
        key = (
            row_key,
            column_key,
            row_index,  # the rendered cell carries its coordinates (for the mouse)
            column_index,
            base_style,
            width,
            cursor,
            hover,
            self.show_cursor,
            self._show_hover_cursor,
            self._pseudo_class_state,
        )
        hit = self._cells_drawn.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        at = (row_index, column_index)
        lines = self._one_line_cell(value, *at, base_style, width, cursor, hover)
        if lines is not None:
            put(self._cells_drawn, key, (value, lines))
            return lines
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        put(self._cells_drawn, key, (value, lines))
        # Kept here, by value; DataTable's copy (its key as in its _render_cell) would hold the
        # cells changed since the last poll, a screenful more or less from poll to poll.
        self._cell_render_cache.discard(
            (
                row_key,
                column_key,
                base_style,
                cursor,
                hover,
                self._show_hover_cursor,
                self._update_count,
                self._pseudo_class_state,
            )
        )
        return lines

    def _one_line_cell(
        self,
        value: object,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> SegmentLines | None:
        """A cell that is one line of Text that fits, drawn as DataTable draws it (Styled over
        Padding over the Text, through Console.render_lines) in a few steps; None for any other
        cell, which DataTable draws. What a poll changes is mostly such cells (bars, figures,
        trends), and Rich's general path (wrap, justify, crop, pad: a dozen renderables deep)
        was most of a redrawn row's cost."""
        if not isinstance(value, Text):
            return None
        plain = value.plain
        pad = self.cell_padding
        inner = width - 2 * pad
        if (
            value.justify not in (None, "default")
            or inner < 0
            or "\n" in plain
            or "\t" in plain
            or cell_len(plain) > inner
            or self.app.console_options.justify not in (None, "default")
        ):
            return None
        row_key = self._row_locations.get_key(row_index)
        if row_key is None or self.rows[row_key].height != 1:
            return None
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        component, post = self._get_styles_to_render_cell(
            False,
            False,
            fixed,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component
        console = self.app.console
        if value.spans:
            segments = list(value.render(console, end=""))
        else:  # Text.render leaves out the style of a Text without spans (its caller adds it)
            segments = [Segment(plain, console.get_style(value.style, default=Style.null()))]
        room = inner - cell_len(plain)
        line = [Segment(" " * pad), *segments] if pad else segments
        if room:
            line.append(Segment(" " * room))
        if pad:
            line.append(Segment(" " * pad))
        return [list(Segment.apply_style(line, pre, post or None))]

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[SegmentLines, SegmentLines]:
        line = super()._render_line_in_row(
            row_key, line_no, base_style, cursor_location, hover_location
        )
        # The row's renderables served its cells just now; kept, DataTable's cache held one per
        # row changed at the last poll until the next (the line itself is cached).
        self._row_renderable_cache.clear()
        return line

    def get_component_styles(self, *names: str) -> RenderStyles:
        key = (names, self._pseudo_class_state)
        hit = self._components.get(key)
        if hit is None:
            hit = self._components[key] = _KeptStyle.of(super().get_component_styles(*names))
        return hit

    def notify_style_update(self) -> None:
        self._components = {}
        super().notify_style_update()
        theme = getattr(self.app, "theme", None)
        if theme != self._drawn_theme:
            self._drawn_theme = theme
            self._cells_drawn.clear()

    # One frame's styles: DataTable asks for its Rich style and background colours at each line
    # it draws (each a walk up the widget's ancestors); within one render_lines call they are
    # the same, so they are worked out once per call.
    _frame: tuple[Style, tuple[Color, Color]] | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        self._frame = None
        self._frame = (self.rich_style, self.background_colors)
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    @property
    def rich_style(self) -> Style:
        frame = self._frame
        return frame[0] if frame is not None else super().rich_style

    @property
    def background_colors(self) -> tuple[Color, Color]:
        frame = self._frame
        return frame[1] if frame is not None else super().background_colors

    def render_line(self, y: int) -> Strip:
        if self._update_count != self._drawn_at:
            self._drop_dead_renders()
        return super().render_line(y)

    def _drop_dead_renders(self) -> None:
        self._drawn_at = self._update_count
        for cache in (
            self._row_render_cache,
            self._cell_render_cache,
            self._row_renderable_cache,
            self._line_cache,
        ):
            cache.clear()

    def retained_renders(self) -> int:
        """Entries held in the render caches (what the retained-objects test counts)."""
        return sum(
            len(c)
            for c in (
                self._row_render_cache,
                self._cell_render_cache,
                self._row_renderable_cache,
                self._line_cache,
                self._cells_drawn,
            )
        )
