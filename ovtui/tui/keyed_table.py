"""A DataTable whose rows are keyed and updated in place, so refreshes never move the cursor."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.binding import Binding
from textual.geometry import Offset
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, Row, RowKey

from ovtui.tui.fmt import sort_key_of
from ovtui.tui.nav_table import Cell, NavTable

__all__ = ["Cell", "Col", "KeyedTable"]


@dataclass(frozen=True, slots=True)
class Col:
    key: str
    label: str
    width: int | None = None  # None: fit the content


REBUILD_MIN = 50  # rows added and removed in one sync beyond which the table is rebuilt,
REBUILD_SHARE = 4  # ... if they are also more than a quarter of it


class KeyedTable(NavTable):
    """Rows are synced from a {key: cells} mapping: changed cells are updated, new rows added,
    vanished rows removed. The cursor stays on the same row key whatever happens around it."""

    DEFAULT_CSS = "KeyedTable { scrollbar-size-vertical: 1; }"  # a column more for data
    BINDINGS = [
        Binding("enter", "select_cursor", "open", tooltip="open the selected row's detail"),
        Binding("o", "cycle_sort", "sort", show=False, tooltip="sort by the next column"),
        Binding("O", "reverse_sort", "reverse", show=False, tooltip="reverse the sort order"),
    ]

    def __init__(
        self, columns: Sequence[Col], *, sort: str | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._cols = tuple(columns)
        self._cache: dict[str, Sequence[Cell]] = {}
        self._widest: dict[str, int] = {}
        self.sort_column: str | None = sort
        self.sort_reverse = False

    def on_mount(self) -> None:
        for col in self._cols:
            self.add_column(col.label, width=col.width, key=col.key)
        self._label_sort()

    # -- data --------------------------------------------------------------------------------
    @property
    def cursor_key(self) -> str | None:
        if not self.row_count:
            return None
        row = min(self.cursor_row, self.row_count - 1)
        return self.coordinate_to_cell_key((row, 0)).row_key.value  # type: ignore[arg-type]

    @property
    def keys(self) -> list[str]:
        """Row keys in display order."""
        return [str(row.key.value) for row in self.ordered_rows]

    def sync(self, rows: Mapping[str, Sequence[Cell]]) -> None:
        """Only what differs is touched: a row whose cells are the same object as last time is
        skipped without a look, one with equal cells after a comparison. When many rows come
        or go at once (a filter typed or cleared), the table is rebuilt in order instead: one
        pass, where removing rows one by one costs a pass over the table each."""
        keep = self.cursor_key
        cache = self._cache
        gone = [k for k in cache if k not in rows]
        # Rows new or changed; a row handed over as the same cells object is skipped unseen.
        touched = [k for k, cells in rows.items() if not _same(cache.get(k), cells)]
        if len(gone) + len(touched) > max(REBUILD_MIN, len(cache) // REBUILD_SHARE):
            # Many at once (a filter typed or cleared, a synthetic load moving every VM, a
            # hidden tab catching up): DataTable's per-cell update repaints per call.
            self._rebuild(rows, keep, self.scroll_offset if keep is not None else None)
            return
        reorder = False
        for key in gone:
            self.remove_row(key)
            del cache[key]
        sort_index = next((i for i, c in enumerate(self._cols) if c.key == self.sort_column), -1)
        for key in touched:
            cells = rows[key]
            old = cache.get(key)
            if old is None:
                self._measure(cells)
                self.add_row(*cells, key=key)
                reorder = True
            else:
                for i, (col, new, prev) in enumerate(zip(self._cols, cells, old, strict=True)):
                    if new != prev:
                        grew = self._measure_one(col, new) and col.width is None
                        # Widths only grow: asking DataTable to re-measure a cell that got
                        # narrower makes it measure the whole column.
                        self.update_cell(key, col.key, new, update_width=grew)
                        reorder |= i == sort_index
            cache[key] = cells
        if reorder:
            self._label_sort()  # widths may have grown: maybe room for the arrow now
            self._apply_sort()
        self.select_key(keep)

    def _rebuild(
        self, rows: Mapping[str, Sequence[Cell]], keep: str | None, scroll: Offset | None = None
    ) -> None:
        had_rows = self.row_count > 0
        self.clear()
        self._cache = dict(rows)
        for cells in rows.values():
            self._measure(cells)
        self._load(self._ordered(rows), rows, had_rows)
        # Sized now rather than at idle: DataTable would otherwise draw the top of the table
        # once before scrolling to the kept row (a screenful of cells rendered for nothing).
        self._require_update_dimensions = False
        self._new_rows.clear()
        self._update_dimensions(())
        self._label_sort()
        if scroll is not None:  # a refresh, not a new filter: the view stays where it was
            self.scroll_to(scroll.x, scroll.y, animate=False, immediate=True)
        self.select_key(keep)

    def _load(
        self, order: list[str], rows: Mapping[str, Sequence[Cell]], had_rows: bool = False
    ) -> None:
        """add_row for each row of an empty table, in one go: add_row revalidates the cursor and
        rebuilds its view of the columns per row, a third of a 20 000-row rebuild."""
        columns = [c.key for c in self.ordered_columns]
        keys = [RowKey(k) for k in order]

        for key in keys:
            cells = rows[str(key.value)]
            self._data[key] = dict(zip(columns, cells, strict=True))
            self.rows[key] = Row(key, 1)
        self._row_locations = TwoWayDict({key: i for i, key in enumerate(keys)})
        self._update_count += 1
        self.cursor_coordinate = self.cursor_coordinate  # clamped to the rows now there
        if not had_rows and keys and self.show_cursor and self.cursor_type != "none":
            # As add_row does for a first row; not at each rebuild (each RowHighlighted makes
            # a view refresh its keys: the footer laid out again at every poll).
            self._highlight_cursor()
        self.refresh()

    def _ordered(self, rows: Mapping[str, Sequence[Cell]]) -> list[str]:
        """Row keys in the order _apply_sort would leave them."""
        index = next((i for i, c in enumerate(self._cols) if c.key == self.sort_column), None)
        if index is None:
            return list(rows)
        if index == 0:
            return sorted(rows, key=lambda k: sort_key_of(rows[k][0]), reverse=self.sort_reverse)
        return sorted(
            rows,
            key=lambda k: (sort_key_of(rows[k][index]), sort_key_of(rows[k][0])),
            reverse=self.sort_reverse,
        )

    def _measure(self, cells: Sequence[Cell]) -> None:
        for col, cell in zip(self._cols, cells, strict=True):
            self._measure_one(col, cell)

    def _measure_one(self, col: Col, cell: Cell) -> bool:
        """Widest content, measured here (DataTable only measures at its next render);
        True if this cell widened its column."""
        width = len(str(cell))
        if width > self._widest.get(col.key, 0):
            self._widest[col.key] = width
            return True
        return False

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # The widths are known from _measure; DataTable would measure each cell of each new row
        # with Rich again (20 000 rows x 8 columns after a filter is cleared, ~1 s). Rows are
        # one line high, so there are no heights to find either.
        for col in self._cols:
            column = self.columns[ColumnKey(col.key)]
            column.content_width = max(column.content_width, self._widest.get(col.key, 0))
        super()._update_dimensions(())

    def select_key(self, key: str | None) -> None:
        if key is None or key not in self._cache:
            return
        index = self.get_row_index(key)
        if index != self.cursor_row:
            self.move_cursor(row=index)

    # -- sorting -----------------------------------------------------------------------------
    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        if reverse is None:
            reverse = not self.sort_reverse if column == self.sort_column else False
        keep = self.cursor_key
        self.sort_column, self.sort_reverse = column, reverse
        self._label_sort()
        self._apply_sort()
        self.select_key(keep)

    def action_cycle_sort(self) -> None:
        keys = [c.key for c in self._cols]
        at = keys.index(self.sort_column) if self.sort_column in keys else -1
        self.sort_by(keys[(at + 1) % len(keys)], reverse=False)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column or self._cols[0].key, reverse=not self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def _apply_sort(self) -> None:
        if self.sort_column is None or not self.row_count:
            return
        first = self._cols[0].key
        if self.sort_column == first:
            self.sort(first, key=sort_key_of, reverse=self.sort_reverse)
        else:
            # Ties break on the first column (the name), so equal values never swap places.
            self.sort(self.sort_column, first, key=_by_both, reverse=self.sort_reverse)

    def _label_sort(self) -> None:
        # The sorted column is underlined; its arrow shows where the column has room for it
        # (widening columns for arrows would cost the VM table its fit in 80 columns).
        for col in self._cols:
            column = self.columns[col.key]  # type: ignore[index]
            if col.key != self.sort_column:
                column.label = Text(col.label)
                continue
            room = (col.width or self._widest.get(col.key, 0)) > len(col.label)
            arrow = ("▼" if self.sort_reverse else "▲") if room else ""
            column.label = Text(col.label + arrow, style="bold underline")
        self.refresh()


def _same(old: Sequence[Cell] | None, new: Sequence[Cell]) -> bool:
    if old is new:
        return True
    return (
        old is not None
        and len(old) == len(new)
        and all(a == b for a, b in zip(old, new, strict=True))
    )


def _by_both(cells: tuple[Cell, Cell]) -> tuple[object, ...]:
    return (sort_key_of(cells[0]), sort_key_of(cells[1]))
