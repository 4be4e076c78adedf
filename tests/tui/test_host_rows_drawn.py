"""The Hosts tab at 500 hosts: a reading formats the rows on screen only, and they are right.

Counted, never timed (bench/tui_figures.py times it).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from textual.app import App, ComposeResult

from ovtui.tui.columns import HOST_COLUMNS, host_cells, host_widths
from ovtui.tui.hosts_view import HostsView

from .snapshot import frame
from .test_overview_rows_drawn import fleet

SIZE = (140, 30)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        yield HostsView()


def _lines(app: App[Any]) -> list[str]:
    return _ANSI.sub("", frame(app)).splitlines()


def _row(cells: list[Any]) -> str:
    return " ".join(str(c).strip() for c in cells if str(c).strip())


async def test_a_reading_formats_only_the_rows_on_screen_and_they_are_right() -> None:
    app = _Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(HostsView)
        for step in range(3):
            before = view.made
            view.show(fleet(step))
            await pilot.pause()
            assert 0 < view.made - before <= SIZE[1], view.made - before  # of 500 rows
        data = fleet(2)
        defined = {h.name: sum(v.host == h.name for v in data.vms) for h in data.hosts}
        shown = [" ".join(line.replace("│", " ").split()) for line in _lines(app)]
        for name in view.table.keys[:10]:
            host = next(h for h in data.hosts if h.name == name)
            row = " ".join(_row(host_cells(host, defined[name])).split())
            assert any(row in line for line in shown), (row, shown[:5])
        await pilot.press("end")
        await pilot.pause()
        assert view.table.cursor_key == "kvm-499" and any("kvm-499" in s for s in _lines(app))
        view.table.sort_by("cpu")  # sorted by a figure: every row's cells, as before
        await pilot.pause()
        usage = [next(h for h in data.hosts if h.name == k).cpu_usage for k in view.table.keys]
        assert usage == sorted(usage)  # type: ignore[type-var]


def test_host_widths_are_those_of_the_cells() -> None:
    some = fleet(1, hosts=20).hosts
    for changed in (
        {"maintenance": True},
        {"state": "non_responsive", "state_reason": "libvirt unreachable since 12:00"},
        {"vms_config_pending": 3, "cpus": 128},
        {"memory_used_mib": 2_000_000},
    ):
        hosts = (*some, dataclasses.replace(some[0], name="kvm-longer-name", **changed))
        widths = host_widths(hosts, {h.name: 40 for h in hosts})
        for i, col in enumerate(HOST_COLUMNS):
            if col.width is None:
                widest = max(len(str(host_cells(h, 40)[i])) for h in hosts)
                assert widths[col.key] == widest, (col.key, changed)
