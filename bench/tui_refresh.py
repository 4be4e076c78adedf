"""One refresh of the VM table, measured in-process on a headless Textual app.

- fetch:   the three GETs of a dashboard poll (hosts, VMs, clusters) over the socket + parsing
- first:   VmsView.show() of N VMs into an empty table (every row added)
- changed: show() where every VM's CPU% differs (what the synthetic load does at each poll)
- same:    show() of the same data again (no cell changes: the diff finds nothing)
- naive:   the naive way, DataTable.clear() then add_rows() of all N rows' cells (cells built
           as show() builds them; cursor and scroll position are lost, which is why we diff)
- painted: show() (changed) plus `pilot.pause()`, i.e. until the app has processed the
           messages and the repaint it caused; pause_floor is pilot.pause() with nothing to do
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from ovtui.client import AsyncClient
from ovtui.tui.columns import VM_COLUMNS, vm_cells
from ovtui.tui.poller import Poller
from ovtui.tui.rows import FleetData
from ovtui.tui.vms_view import VmsView


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield VmsView()
        yield DataTable[Any](id="naive")


def _jitter(data: FleetData, step: int) -> FleetData:
    vms = tuple(
        replace(v, cpu_usage=((i * 7919 + step) % 1000) / 1000) for i, v in enumerate(data.vms)
    )
    return replace(data, vms=vms)


def _ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def _timed(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


async def measure(socket: Path, token: str, repeat: int) -> dict[str, Any]:
    client = AsyncClient(socket, token, timeout=60)
    poller = Poller(client)
    fetch = []
    for _ in range(repeat):
        began = time.perf_counter()
        data = await poller.fleet()
        fetch.append(time.perf_counter() - began)
    await client.aclose()
    app = _TableApp()
    async with app.run_test(size=(160, 48)) as pilot:
        view = app.query_one(VmsView)
        first = _timed(lambda: view.show(data))
        await pilot.pause()
        changed, same, painted, naive, floor = [], [], [], [], []
        for step in range(repeat):
            moved = _jitter(data, step)
            changed.append(_timed(lambda moved=moved: view.show(moved)))  # type: ignore[misc]
            await pilot.pause()
            same.append(_timed(lambda moved=moved: view.show(moved)))  # type: ignore[misc]
            again = _jitter(data, step + repeat)
            began = time.perf_counter()
            view.show(again)
            await pilot.pause()
            painted.append(time.perf_counter() - began)
            began = time.perf_counter()
            await pilot.pause()
            floor.append(time.perf_counter() - began)
        table = app.query_one("#naive", DataTable)
        table.add_columns(*(c.label for c in VM_COLUMNS))
        for _ in range(repeat):
            naive.append(_timed(lambda: (table.clear(), table.add_rows(map(vm_cells, data.vms)))))
    return {
        "vms": len(data.vms),
        "fetch_ms": _ms(fetch),
        "first_sync_ms": round(first * 1000, 2),
        "refresh_changed_ms": _ms(changed),
        "refresh_same_ms": _ms(same),
        "refresh_painted_ms": _ms(painted),
        "pause_floor_ms": _ms(floor),
        "naive_rebuild_ms": _ms(naive),
    }
