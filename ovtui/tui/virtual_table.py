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

from textual.geometry import Offset
from textual.widgets.data_table import ColumnKey, Row, RowKey

from ovtui.tui.keyed_table import Cell, Col, KeyedTable


class RowSource(Protocol):
    def cells(self, key: str) -> Sequence[Cell]:
        """The row's cells, one per column; the same object while the row is unchanged
        (the table's render cache is keyed by it)."""
        ...

    def sort_key(self, key: str, column: str) -> tuple[Any, ...]:
        """What the row sorts by in that column (ties break on the first column)."""
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


class _Offsets(Sequence[tuple[RowKey, int]]):
    """`_y_offsets`: line y of the table body is row y (rows are one line high)."""

    def __init__(self, locations: _Locations) -> None:
        self._at = locations

    def __getitem__(self, y: Any) -> Any:
        return (RowKey(self._at.order[y]), 0)

    def __len__(self) -> int:
        return len(self._at.order)


class _NoSource:
    def cells(self, key: str) -> Sequence[Cell]:
        raise KeyError(key)

    def sort_key(self, key: str, column: str) -> tuple[Any, ...]:
        return (key,)

    def widths(self) -> Mapping[str, int]:
        return {}


class VirtualTable(KeyedTable):
    def __init__(
        self, columns: Sequence[Col], *, sort: str | None = None, id: str | None = None
    ) -> None:
        super().__init__(columns, sort=sort, id=id)
        self._source: RowSource = _NoSource()
        self._shown: list[str] = []  # the rows to show, in the source's order
        self._at = _Locations([])
        self._column_index = {c.key: i for i, c in enumerate(self._cols)}
        self._install()

    def _install(self) -> None:
        self._data = _Data(self)  # type: ignore[assignment]
        self.rows = _Rows(self._at)  # type: ignore[assignment]
        self._row_locations = self._at  # type: ignore[assignment]

    @property
    def _y_offsets(self) -> _Offsets:  # type: ignore[override]
        return _Offsets(self._at)

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
        for key, width in source.widths().items():  # widths only grow, as in KeyedTable
            if width > self._widest.get(key, 0):
                self._widest[key] = width
        if order == self._at.order and not changed:
            return
        refreshed = order != self._at.order
        self._at = _Locations(order)
        self._install()
        self._update_count += 1  # DataTable's caches are keyed by it: all of them are stale
        self._require_update_dimensions = False
        self._new_rows.clear()
        scroll = self.scroll_offset
        self._update_dimensions(())
        self._label_sort()
        self.cursor_coordinate = self.cursor_coordinate  # clamped to the rows now there
        if order and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        if refreshed and keep is not None and keep in self._at.index:
            self._keep_view(scroll)
        self.select_key(keep)
        self.refresh()

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
        source, column = self._source, self.sort_column
        first = self._cols[0].key
        if column is None:
            return list(self._shown)
        if column == first:
            return sorted(
                self._shown, key=lambda k: source.sort_key(k, first), reverse=self.sort_reverse
            )
        return sorted(
            self._shown,
            key=lambda k: (source.sort_key(k, column), source.sort_key(k, first)),
            reverse=self.sort_reverse,
        )

    def _apply_sort(self) -> None:
        order = self._ordered_keys()
        if order != self._at.order:
            self._at = _Locations(order)
            self._install()
            self._update_count += 1
            self.refresh()
