"""The VM table at 20 000 VMs: only the rows drawn are formatted, and what is drawn is right.

The table holds the order of the rows; cells are made when a row is drawn. These tests check
that the operator sees the right row where they look (after End, after sorting, filtering,
clearing) and count the rows formatted; nothing is timed (bench/tui_figures.py does that).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from textual.app import App, ComposeResult

from ovtui.tui import vms_view
from ovtui.tui.columns import VM_COLUMNS, VM_SORT_KEYS, vm_cells
from ovtui.tui.filtering import compile_filter
from ovtui.tui.fmt import sort_key_of
from ovtui.tui.rows import FleetData, VmRow
from ovtui.tui.vms_view import VmsView

from .snapshot import frame

SIZE = (120, 30)
STATES = ("running", "shutoff", "paused", "running", "migrating")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def fleet(n: int, step: int = 0) -> FleetData:
    """n VMs, listed in an order unlike the table's (uuids shuffled), with varied fields."""
    vms = []
    for i in range(n):
        state = STATES[i % len(STATES)]
        vms.append(
            VmRow(
                uuid=f"u{(i * 7919) % n:05d}",
                name=f"vm-{(i * 7919) % n:05d}",
                host=f"kvm-{i % 7:02d}",
                cluster=f"c{i % 3}",
                state=state,
                vcpus=1 + i % 16,
                memory_mib=512 * (1 + i % 9),
                cpu_usage=((i * 31 + step) % 100) / 100,
                highly_available=i % 4 == 0,
                pinned=i % 11 == 0,
                migratable=i % 13 != 0,
                migration_target="kvm-99" if state == "migrating" else "",
            )
        )
    return FleetData(vms=tuple(vms))


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield VmsView()


def _screen_lines(app: App[Any]) -> list[str]:
    return _ANSI.sub("", frame(app)).splitlines()


def _shown(vm: VmRow) -> list[str]:
    """The row as the operator reads it: each cell's text."""
    return [str(c) for c in vm_cells(vm)]


@pytest.fixture
def formatted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []

    def counted(vm: VmRow, selected: bool = False) -> list[Any]:
        made.append(vm.uuid)
        return vm_cells(vm, selected)

    monkeypatch.setattr(vms_view, "vm_cells", counted)
    return made


async def test_only_the_rows_drawn_are_formatted(formatted: list[str]) -> None:
    app = _Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(VmsView)
        view.show(fleet(20_000))
        await pilot.pause()
        assert view.table.row_count == 20_000
        visible = SIZE[1]
        # Before: every row's cells were made at each show (20 000 rows).
        assert 0 < len(set(formatted)) <= visible, len(formatted)
        formatted.clear()
        view.show(fleet(20_000, step=1))  # a new reading: every VM's CPU moved
        await pilot.pause()
        assert 0 < len(set(formatted)) <= visible


async def test_after_End_the_row_shown_for_the_last_VM_is_right(formatted: list[str]) -> None:
    data = fleet(20_000)
    by_name = sorted(data.vms, key=lambda v: v.name)
    last = by_name[-1]
    assert last.name == "vm-19999"
    app = _Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(VmsView)
        view.show(data)
        view.table.focus()
        await pilot.pause()
        await pilot.press("end")
        await pilot.pause()
        table = view.table
        assert table.cursor_row == 19_999 and table.cursor_key == last.uuid
        assert [str(c) for c in table.get_row_at(table.cursor_row)] == _shown(last)
        lines = _screen_lines(app)
        (line,) = [x for x in lines if "vm-19999" in x]
        # Each cell of the row the operator sees, in column order, on that one line.
        assert re.search(r"\s+".join(map(re.escape, filter(None, _shown(last)))), line), line
        # And the rows above it are the VMs before it by name, as drawn.
        above = lines[lines.index(line) - 1]
        assert by_name[-2].name in above and by_name[-2].host in above
        assert len(set(formatted)) <= 2 * SIZE[1]  # the top screenful, then the bottom one


@pytest.mark.parametrize("reverse", [False, True])
async def test_every_column_sorts_as_a_table_of_its_cells_would(reverse: bool) -> None:
    data = fleet(600)
    cells = {v.uuid: vm_cells(v) for v in data.vms}
    app = _Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(VmsView)
        view.show(data)
        await pilot.pause()
        for index, col in enumerate(VM_COLUMNS):
            view.table.sort_by(col.key, reverse=reverse)
            await pilot.pause()
            expected = sorted(
                cells,
                key=lambda k, i=index: (sort_key_of(cells[k][i]), sort_key_of(cells[k][0])),  # type: ignore[misc]
                reverse=reverse,
            )
            assert view.table.keys == expected, col.key
            # On screen, the cursor's row and the one under it are the rows in that order.
            at = view.table.cursor_row
            lines = _screen_lines(app)
            (line,) = [i for i, x in enumerate(lines) if f" {cells[expected[at]][0]} " in x]
            step = 1 if line <= 1 else -1  # the row under one drawn at the top, else above
            assert f" {cells[expected[at + step]][0]} " in lines[line + step], col.key


async def test_a_filter_and_its_clearing_show_the_right_rows_in_order() -> None:
    data = fleet(20_000)
    names = {v.uuid: v.name for v in data.vms}
    app = _Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(VmsView)
        view.show(data)
        view.table.focus()
        await pilot.pause()
        view.filter = compile_filter("re:^vm-1999")
        view._sync()
        await pilot.pause()
        assert [names[k] for k in view.table.keys] == [f"vm-1999{d}" for d in range(10)]
        await pilot.press("down", "down")
        kept = view.table.cursor_key
        assert kept is not None and names[kept] == "vm-19992"
        assert "vm-19990" in "\n".join(_screen_lines(app))
        view.filter = None
        view._sync()
        await pilot.pause()
        assert view.table.row_count == 20_000
        assert [names[k] for k in view.table.keys] == sorted(names.values())
        assert view.table.cursor_key == kept  # the cursor stays on its VM, now in the fleet
        assert "vm-19991" in "\n".join(_screen_lines(app))


async def test_a_selected_row_is_drawn_selected_and_stays_so_across_readings() -> None:
    app = _Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(VmsView)
        view.show(fleet(2_000))
        view.table.focus()
        await pilot.pause()
        first = view.table.cursor_key
        await pilot.press("space")
        assert first is not None and view.selection == {first}
        view.show(fleet(2_000, step=3))
        await pilot.pause()
        name = view.table.get_cell(first, "name")
        assert view.selection == {first} and getattr(name, "style", "") == "bold black on yellow"
        other = view.table.keys[1]
        assert not getattr(view.table.get_cell(other, "name"), "style", "")


async def test_a_new_reading_redraws_the_rows_that_changed_with_their_new_cells() -> None:
    app = _Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(VmsView)
        view.show(fleet(5_000))
        await pilot.pause()
        moved = fleet(5_000, step=7)  # every running VM's CPU% differs
        view.show(moved)
        await pilot.pause()
        lines = _screen_lines(app)
        by_uuid = {v.uuid: v for v in moved.vms}
        for index in range(10):  # the top rows on screen show the new reading, cell by cell
            vm = by_uuid[view.table.keys[index]]
            (line,) = [x for x in lines if f" {vm.name} " in x]
            cells = [re.escape(c) for c in _shown(vm) if c]
            assert re.search(r"\s+".join(cells), line), (vm.name, line)


async def test_a_reading_that_moves_figures_within_their_rounding_redraws_no_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each engine reading moves every running VM's CPU a little; most shown figures (whole
    # percents) stay the same. The row's cells were made anew (a new list of the same cell
    # objects) and the table drew every row on screen again: most of an idle VMs tab's CPU.
    from dataclasses import replace

    from ovtui.tui.virtual_table import VirtualTable

    drawn: list[int] = []
    real = VirtualTable.refresh_row

    def counted(self: VirtualTable, row_index: int) -> None:
        drawn.append(row_index)
        real(self, row_index)

    monkeypatch.setattr(VirtualTable, "refresh_row", counted)
    data = fleet(2_000)
    app = _Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(VmsView)
        view.show(data)
        await pilot.pause()
        nudged = tuple(replace(v, cpu_usage=(v.cpu_usage or 0) + 0.0001) for v in data.vms)
        drawn.clear()
        view.show(replace(data, vms=nudged))
        await pilot.pause()
        assert drawn == []
        top = view.table.keys[0]
        moved = tuple(
            replace(v, cpu_usage=0.5, state="running") if v.uuid == top else v for v in nudged
        )
        view.show(replace(data, vms=moved))
        await pilot.pause()
        assert drawn == [0]  # the one row whose figure shows differently, and it shows it
        assert str(view.table.get_row_at(0)[VM_COLUMNS.index(_col("cpu"))]).strip() == "50%"


def _col(key: str) -> Any:
    return next(c for c in VM_COLUMNS if c.key == key)


async def test_a_read_naming_few_vms_sorts_again_only_when_they_moved_in_the_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A delta read at 20 000 VMs changes a few row objects: sorting 20 000 again (and measuring
    # every row's widths) at each read was most of its cost.
    from ovtui.tui.virtual_table import VirtualTable

    sorts: list[str] = []
    real_sort = VirtualTable._sort

    def counted(self: VirtualTable, keys: list[str], column: str) -> list[str]:
        sorts.append(column)
        return real_sort(self, keys, column)

    monkeypatch.setattr(VirtualTable, "_sort", counted)
    data = fleet(20_000)
    app = _Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(VmsView)
        view.show(data)
        await pilot.pause()
        vms = list(data.vms)

        def read(i: int, **changed: Any) -> None:
            vms[i] = dataclasses.replace(vms[i], **changed)
            view.show(FleetData(vms=tuple(vms)))

        sorts.clear()
        read(5, cpu_usage=0.99)  # sorted by name: a CPU figure moves nothing
        read(6, name="vm-zzz-longer-than-any")  # a new name: sorted again, its width grows
        assert sorts == ["name"] and view.table.keys[-1] == vms[6].uuid
        assert view.widths()["name"] == len("vm-zzz-longer-than-any")
        view.table.sort_by("cpu")
        sorts.clear()
        read(7, cpu_usage=1.0)  # sorted by CPU: it moves
        read(8, memory_mib=1)  # not in the order by CPU (nor the name)
        assert sorts == ["cpu"] and view.table.keys[-1] == vms[7].uuid
        assert view.table.keys == [v.uuid for v in sorted(vms, key=_by_cpu)]


def _by_cpu(v: VmRow) -> tuple[Any, ...]:
    return (*VM_SORT_KEYS["cpu"](v), *VM_SORT_KEYS["name"](v))


async def test_esc_after_a_filter_renders_no_cell_again_but_a_theme_change_does(
    cells_rendered: list[tuple[int, int]],
) -> None:
    # The table loses focus to the filter box and gets it back: DataTable's style update
    # dropped every rendered cell, and all of a screenful was rendered again (Esc, tab keys).
    rendered = cells_rendered
    app = _Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(VmsView)
        view.show(fleet(1000))
        view.table.focus()
        await pilot.pause()
        screenful, drawn = len(rendered), {r for r, _ in rendered}
        await pilot.press("slash", *"vm-00005")  # on the first screen: Esc shows it again
        await pilot.pause(vms_view.FILTER_PAUSE * 3)
        await pilot.pause()
        assert view.table.row_count == 1
        rendered.clear()
        await pilot.press("escape")
        await pilot.pause()
        assert view.table.row_count == 1000 and view.table.has_focus
        # No row drawn before the filter is rendered again, but the one the cursor is now on.
        assert view.table.cursor_row == 5
        assert not ({r for r, _ in rendered} - {5}) & drawn, (sorted(drawn), rendered)
        app.theme = "textual-light"
        await pilot.pause()
        assert len(rendered) >= screenful > 0  # new colours: drawn anew
