"""A KeyedTable over a list of keys whose cells are made only for the rows drawn.

KeyedTable holds every row's cells, so a 20 000-VM table formatted 20 000 rows (Rich Text
objects, ~10 each) at each VM read, at each filter typed or cleared, at each tab switch that
caught up: seconds. Here the table holds only the row keys in display order; DataTable's row
structures (`_data`, `rows`, `_row_locations`, `_y_offsets`) are views over that list, and a
row's cells come from the source when DataTable draws the row. Sorting works on the source's
plain sort keys (tuples of str and numbers), never on cells.

The views answer what DataTable asks of those structures when drawing, moving the cursor and
scrolling; the row-editing calls (add_row, remove_row, update_cell, clear, sort) are not for
this table: rows are only ever given whole, by show_rows().
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from textual.coordinate import Coordinate
from textual.geometry import Offset, Region
from textual.widgets.data_table import ColumnKey, Row, RowKey

from ovtui.tui.keyed_table import Cell, Col, KeyedTable


class RowSource(Protocol):
    @property
    def version(self) -> object:
        """Changes whenever a row's sort keys may have (the table caches the sorted order)."""
        ...

    def all_keys(self) -> Iterable[str]:
        """Every row the source has; what show_rows() is given is a subset of it."""
        ...

    def cells(self, key: str) -> Sequence[Cell]:
        """The row's cells, one per column; the same object while the row is unchanged
        (the table's render cache is keyed by it)."""
        ...

    def sort_keys(self, keys: list[str], column: str) -> list[tuple[Any, ...]]:
        """What each of these rows sorts by in that column (ties break on the first column)."""
        ...

    def widths(self) -> Mapping[str, int]:
        """The widest content of each column over all the rows the source may give."""
        ...


class _Locations:
    """_row_locations: row key <-> display index."""

    def __init__(self, order: list[str]) -> None:
        self.order = order
        self.index = {k: i for i, k in enumerate(order)}

    def get(self, key: object, default: int | None = None) -> int | None:
        return self.index.get(key, default)  # type: ignore[call-overload]

    def get_key(self, index: int) -> RowKey | None:
        return RowKey(self.order[index]) if 0 <= index < len(self.order) else None

    def __contains__(self, key: object) -> bool:
        return key in self.index

    def __iter__(self) -> Iterator[RowKey]:
        return (RowKey(k) for k in self.order)

    def __len__(self) -> int:
        return len(self.order)


class _Rows(Mapping[Any, Row]):
    """`rows`: every row is one line high and has no label."""

    def __init__(self, locations: _Locations) -> None:
        self._at = locations

    def __getitem__(self, key: object) -> Row:
        if key not in self._at.index:
            raise KeyError(key)
        return Row(RowKey(str(key.value if isinstance(key, RowKey) else key)), 1)

    def __iter__(self) -> Iterator[RowKey]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)


class _RowCells(Mapping[Any, Cell]):
    """One row's cells by column key, made when first asked for."""

    def __init__(self, source: RowSource, key: str, columns: Mapping[str, int]) -> None:
        self._source, self._key, self._columns = source, key, columns

    def __getitem__(self, column: object) -> Cell:
        name = column.value if isinstance(column, ColumnKey) else column
        return self._source.cells(self._key)[self._columns[name]]  # type: ignore[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


class _Data(Mapping[Any, _RowCells]):
    """`_data`: row key -> its cells, from the source."""

    def __init__(self, table: VirtualTable) -> None:
        self._table = table

    def __getitem__(self, key: object) -> _RowCells:
        t = self._table
        if key not in t._at.index:
            raise KeyError(key)
        name = str(key.value if isinstance(key, RowKey) else key)
        return _RowCells(t._source, name, t._column_index)

    def __iter__(self) -> Iterator[RowKey]:
        return iter(self._table._at)

    def __len__(self) -> int:
        return len(self._table._at)


class _OrderedRows(Sequence[Row]):
    """`ordered_rows`, made row by row as asked for (DataTable builds a list of them all)."""

    def __init__(self, order: list[str], span: range | None = None) -> None:
        self._order, self._span = order, span if span is not None else range(len(order))

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return _OrderedRows(self._order, self._span[i])
        return Row(RowKey(self._order[self._span[i]]), 1)

    def __len__(self) -> int:
        return len(self._span)


class _Offsets(Sequence[tuple[RowKey, int]]):
    """`_y_offsets`: line y of the table body is row y (rows are one line high)."""

    def __init__(self, locations: _Locations) -> None:
        self._at = locations

    def __getitem__(self, y: Any) -> Any:
        return (RowKey(self._at.order[y]), 0)

    def __len__(self) -> int:
        return len(self._at.order)


class _NoSource:
    version = None

    def all_keys(self) -> Iterable[str]:
        return ()

    def cells(self, key: str) -> Sequence[Cell]:
        raise KeyError(key)

    def sort_keys(self, keys: list[str], column: str) -> list[tuple[Any, ...]]:
        return [(k,) for k in keys]

    def widths(self) -> Mapping[str, int]:
        return {}


class VirtualTable(KeyedTable):
    _at = _Locations([])  # DataTable's __init__ asks for the rows before ours has run

    def __init__(
        self, columns: Sequence[Col], *, sort: str | None = None, id: str | None = None
    ) -> None:
        super().__init__(columns, sort=sort, id=id)
        self._source: RowSource = _NoSource()
        self._shown: list[str] = []  # the rows to show, in the source's order
        self._sorted: tuple[object, list[str]] | None = None  # (version, column, reverse), all
        self._at = _Locations([])
        self._column_index = {c.key: i for i, c in enumerate(self._cols)}
        self._drawn: dict[str, Sequence[Cell]] = {}  # rows on screen -> their cells last seen
        self._install()

    def _install(self) -> None:
        self._data = _Data(self)  # type: ignore[assignment]
        self.rows = _Rows(self._at)  # type: ignore[assignment]
        self._row_locations = self._at  # type: ignore[assignment]

    @property
    def _y_offsets(self) -> _Offsets:  # type: ignore[override]
        return _Offsets(self._at)

    @property
    def ordered_rows(self) -> _OrderedRows:  # type: ignore[override]
        return _OrderedRows(self._at.order)

    # Rows are one line high: a row's y is its index (DataTable adds up the rows above it).
    def _get_row_region(self, row_index: int) -> Region:
        region = super()._get_row_region(0) if self.is_valid_row_index(row_index) else None
        return region.translate(Offset(0, row_index)) if region else Region(0, 0, 0, 0)

    def _get_cell_region(self, coordinate: Coordinate) -> Region:
        if not self.is_valid_coordinate(coordinate):
            return Region(0, 0, 0, 0)
        region = super()._get_cell_region(Coordinate(0, coordinate.column))
        return region.translate(Offset(0, coordinate.row))

    # -- data --------------------------------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        return list(self._at.order)

    @property
    def cursor_key(self) -> str | None:
        order = self._at.order
        return order[min(self.cursor_row, len(order) - 1)] if order else None

    def sync(self, rows: Mapping[str, Sequence[Cell]]) -> None:
        raise TypeError("a VirtualTable is given its rows by show_rows()")

    def show_rows(self, keys: Iterable[str], source: RowSource, changed: bool = True) -> None:
        """Shows these rows (sorted here) from `source`. `changed`: rows' content may differ
        from what was drawn (else only which rows are shown changed)."""
        keep = self.cursor_key
        self._source = source
        self._shown = list(keys)
        order = self._ordered_keys()
        grew = False
        for key, width in source.widths().items():  # widths only grow, as in KeyedTable
            if width > self._widest.get(key, 0):
                self._widest[key] = width
                grew = True
        if order == self._at.order and not grew:
            if changed:
                self._refresh_changed_rows()
            return
        refreshed = order != self._at.order
        had_rows = bool(self._at.order)
        self._at = _Locations(order)
        self._install()
        self._update_count += 1  # DataTable's caches are keyed by it: all of them are stale
        self._drawn = {}
        self._require_update_dimensions = False
        self._new_rows.clear()
        scroll = self.scroll_offset
        self._update_dimensions(())
        self._label_sort()
        self.cursor_coordinate = self.cursor_coordinate  # clamped to the rows now there
        if not had_rows and order and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()  # as add_row does for a first row (not at each refresh:
            # each RowHighlighted makes the view refresh its keys, the footer laid out again)
        if refreshed and keep is not None and keep in self._at.index:
            self._keep_view(scroll)
        self.select_key(keep)
        self.refresh()

    def _render_line_in_row(self, row_key: RowKey, *args: Any, **kwargs: Any) -> Any:
        # What is drawn is the row's cells as they are now: the next reading compares with it
        # (a row drawn after a refresh of the whole table is known too, not drawn again).
        if row_key.value in self._at.index:
            self._drawn[str(row_key.value)] = self._source.cells(str(row_key.value))
        return super()._render_line_in_row(row_key, *args, **kwargs)

    def _refresh_changed_rows(self) -> None:
        """The same rows in the same order, some with new cells: only the rows on screen whose
        cells changed are drawn again (a whole-table refresh drew every visible line anew)."""
        self._update_count += 1  # the rows' renders DataTable cached are stale
        order, drawn, seen = self._at.order, self._drawn, {}
        top = int(self.scroll_y)
        lines = self.scrollable_content_region.height - (
            self.header_height if self.show_header else 0
        )
        for index in range(top, min(len(order), top + max(0, lines))):
            key = order[index]
            if key in drawn:
                seen[key] = drawn[key]  # rows scrolled past are forgotten
            if drawn.get(key) is not self._source.cells(key):
                self.refresh_row(index)
        self._drawn = seen

    def _keep_view(self, scroll: Offset) -> None:
        # A refresh, not a new filter: the view stays where it was (the cursor's row kept).
        self.scroll_to(scroll.x, scroll.y, animate=False, immediate=True)

    def select_key(self, key: str | None) -> None:
        if key is None or key not in self._at.index:
            return
        index = self._at.index[key]
        if index != self.cursor_row:
            self.move_cursor(row=index)

    def _ordered_keys(self) -> list[str]:
        """The shown rows in display order: the source's rows are sorted once per version and
        sort order, and a filter only picks from that order (typing or clearing it sorts
        nothing)."""
        source, column = self._source, self.sort_column
        if column is None:
            return list(self._shown)
        wanted = (source.version, column, self.sort_reverse)
        if self._sorted is None or self._sorted[0] != wanted:
            self._sorted = (wanted, self._sort(list(source.all_keys()), column))
        every = self._sorted[1]
        if len(self._shown) == len(every):
            return list(every)
        shown = set(self._shown)
        return [k for k in every if k in shown]

    def _sort(self, keys: list[str], column: str) -> list[str]:
        source, first = self._source, self._cols[0].key
        by: list[Any] = source.sort_keys(keys, first)
        if column != first:
            by = list(zip(source.sort_keys(keys, column), by, strict=True))
        at = sorted(range(len(keys)), key=by.__getitem__, reverse=self.sort_reverse)
        return [keys[i] for i in at]

    def _apply_sort(self) -> None:
        order = self._ordered_keys()
        if order != self._at.order:
            self._at = _Locations(order)
            self._install()
            self._update_count += 1
            self.refresh()
