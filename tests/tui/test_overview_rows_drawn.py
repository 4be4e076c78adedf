"""The overview at 500 hosts: a reading formats the rows on screen only, and they are right.

Counted, never timed (bench/tui_figures.py times it).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from textual.app import App, ComposeResult

from ovtui.tui.history import History
from ovtui.tui.overview_rows import VmCounts, overview_rows
from ovtui.tui.overview_view import OverviewView
from ovtui.tui.rows import FleetData, HostRow, VmRow

from .snapshot import frame

SIZE = (120, 30)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def fleet(step: int, hosts: int = 500) -> FleetData:
    """500 hosts in 2 data centers and 10 clusters; every host's CPU moves at each step."""
    rows = tuple(
        HostRow(
            name=f"kvm-{i:03d}",
            cluster=f"c{i % 10}",
            datacenter=f"dc{i % 2}",
            state="up",
            cpus=64,
            memory_mib=262144,
            memory_used_mib=1024 * (i % 200),
            cpu_usage=((i * 37 + step * 11) % 100) / 100,
        )
        for i in range(hosts)
    )
    vms = tuple(VmRow(uuid=f"u{i}", name=f"vm-{i}", host=f"kvm-{i % hosts:03d}",
                      state="running" if i % 3 else "shutoff") for i in range(2000))  # fmt: skip
    return FleetData(hosts=rows, vms=vms)


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield OverviewView()


def _lines(app: App[Any]) -> list[str]:
    return _ANSI.sub("", frame(app)).splitlines()


async def test_a_reading_formats_only_the_rows_on_screen_and_they_are_right() -> None:
    app = _Host()
    history = History()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(OverviewView)
        for step in range(3):
            data = fleet(step)
            history.record(data)
            before = view.rows.made
            view.show(data, history, [])
            await pilot.pause()
            made = view.rows.made - before
            assert 0 < made <= SIZE[1], made  # a screenful at most, of 512 rows
        assert view.table.row_count == 512  # 2 data centers, 10 clusters, 500 hosts
        every = overview_rows(data, history, VmCounts())
        shown = "\n".join(_lines(app))
        for key in view.table.keys[: view.table.size.height - 2]:
            name, *_, vms, trend = (str(c).strip() for c in every[key])
            assert name in shown and vms in shown and trend in shown, key
        await pilot.press("end")  # the last host, formatted when it comes into view
        await pilot.pause()
        last = every[view.table.keys[-1]]
        assert view.table.cursor_key == "dc1/c9/kvm-499"
        assert any(str(last[0]).strip() in line and str(last[2]) in line for line in _lines(app))


async def test_a_reading_that_moves_nothing_on_screen_redraws_no_row() -> None:
    app = _Host()
    history = History()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(OverviewView)
        data = fleet(0)
        history.record(data)
        view.show(data, history, [])
        await pilot.pause()
        drawn = dict(view.table._drawn)
        # The same figures again, in new objects, and no new trend sample: nothing to draw.
        again = dataclasses.replace(data, hosts=tuple(dataclasses.replace(h) for h in data.hosts))
        view.show(again, history, [])
        await pilot.pause()
        assert drawn and all(view.table._drawn[k] is cells for k, cells in drawn.items())
