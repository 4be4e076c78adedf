"""The overview across readings: a new trend point renders the trend cells again, not the rows,
and the render caches hold a screenful whatever the last reading changed.

Each engine reading adds a point to every row's trend line. The rows' cells were made anew
whole, so every cell on screen was rendered again at each reading; and DataTable kept its own
copy of those renders, so its caches held a screenful more after a reading that changed the rows
than after one that did not (the retained-objects check in test_scale.py failed on that).
Nothing here is timed: the tests count renders and cache entries.
"""

from __future__ import annotations

from textual.app import App, ComposeResult

from ovtui.tui.history import History
from ovtui.tui.overview_rows import OVERVIEW_COLUMNS
from ovtui.tui.overview_view import OverviewView
from ovtui.tui.rows import FleetData, HostRow

SIZE = (120, 30)
TREND = [c.key for c in OVERVIEW_COLUMNS].index("trend")


def _fleet() -> FleetData:
    hosts = tuple(
        HostRow(
            name=f"kvm-{i:02d}",
            cluster=f"c{i % 2}",
            datacenter="dc1",
            state="up",
            cpus=16,
            memory_mib=65536,
            memory_used_mib=1024 * (i + 1),
            cpu_usage=0.05 * (i + 1),
        )
        for i in range(12)
    )
    return FleetData(hosts=hosts)


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield OverviewView()


async def test_a_new_trend_point_renders_only_the_trend_cells_again(
    cells_rendered: list[tuple[int, int]],
) -> None:
    rendered = cells_rendered
    app = _Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(OverviewView)
        fleet, history = _fleet(), History()
        history.record(fleet)
        view.show(fleet, history, [])
        await pilot.pause()
        assert rendered
        rows = view.table.row_count
        rendered.clear()
        history.record(fleet)  # the same figures: only each row's trend line grows a point
        view.show(fleet, history, [])
        await pilot.pause()
        assert {c for _, c in rendered} == {TREND}, sorted(set(rendered))
        assert {r for r, _ in rendered} == set(range(rows))


async def test_the_render_caches_hold_a_screenful_whatever_the_last_reading_changed() -> None:
    app = _Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(OverviewView)
        table = view.table
        fleet, history = _fleet(), History()
        held = []
        for new_point in (True, False, True, False):
            if new_point:
                history.record(fleet)  # every row's trend changes
            view.show(fleet, history, [])
            await pilot.pause()
            table.refresh()  # a whole screenful drawn
            await pilot.pause()
            held.append(table.retained_renders())
        assert len(set(held[1:])) == 1, held  # the first: no renders kept from before yet
