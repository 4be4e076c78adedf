"""The dashboard at fleet scale: keys to the ends of every table, memory that stays flat across
polls, a filter applied once typing pauses, hidden tabs left alone, the VM list read less often.

Nothing here is timed (the machine is shared): the tests count what is kept and what is done.
bench/tui_figures.py measures the times.
"""

from __future__ import annotations

import gc
from typing import Any

import pytest
from textual.strip import Strip
from textual.widgets import DataTable, Input, Static

from ovtui.client import AsyncClient
from ovtui.tui import poller as poller_module
from ovtui.tui.app import OvtuiApp
from ovtui.tui.nav_table import NavTable
from ovtui.tui.poller import Poller

from .conftest import DemoEngine, wait_for, wait_polls
from .test_dashboard import loaded

TABS = {"0": "overview-table", "1": "hosts-table", "2": "vms-table", "3": "events-table"}


async def test_G_End_and_g_Home_go_to_the_last_and_first_row_of_every_table(
    engine: DemoEngine,
) -> None:
    app = engine.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        await wait_for(pilot, lambda: app.dashboard.events.table.row_count > 1, what="events")
        for key, table_id in TABS.items():
            await pilot.press(key)
            table = app.screen.query_one(f"#{table_id}", DataTable)
            assert table.has_focus and table.row_count > 1
            last = table.row_count - 1
            for down, up in (("G", "g"), ("end", "home")):
                await pilot.press(down)
                assert table.cursor_row == table.row_count - 1 >= last - 1, (table_id, down)
                await pilot.press(up)
                assert table.cursor_row == 0, (table_id, up)


def _retained(app: OvtuiApp) -> tuple[int, int]:
    """(entries in the dashboard tables' render caches, Strip objects alive) after a collect."""
    gc.collect()
    # Every render cache of the tables, NavTable's kept cells with them: a poll replaces their
    # renders, it must not add to them.
    entries = sum(t.retained_renders() for t in app.dashboard.query(NavTable))
    strips = sum(1 for o in gc.get_objects() if isinstance(o, Strip))
    return entries, strips


async def test_no_screen_retains_more_objects_poll_after_poll(engine: DemoEngine) -> None:
    # Each poll brings new load figures (synthetic): DataTable rendered them under new cache
    # keys and kept the dead renders until 10 000 cells per table, ~11 MiB a minute.
    app = engine.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        for key, table_id in TABS.items():
            await pilot.press(key)
            table = app.screen.query_one(f"#{table_id}", DataTable)
            await wait_polls(pilot, app, 3)
            table.refresh()  # a whole screenful drawn (a reading redraws only changed rows)
            await pilot.pause()
            entries, strips = _retained(app)
            changes = table._update_count
            await wait_polls(pilot, app, 12)
            if table_id == "overview-table":
                # Its trend column moves with each new sample of the engine, which a loaded
                # machine may take longer than 12 polls to make: wait for one.
                moved = lambda t=table, c=changes: t._update_count > c  # noqa: E731
                await wait_for(pilot, moved, what="a new trend")
            # A poll landing between the refresh and the count adds its rows' renders until the
            # next line drawn empties the cache (seen once at load ~40): a transient, not a
            # leak. The least of three counts drops it; a leak shows in all three.
            counts = []
            for _ in range(3):
                table.refresh()
                await pilot.pause()
                counts.append(_retained(app))
            entries2, strips2 = min(c[0] for c in counts), min(c[1] for c in counts)
            # One screenful of live renders is what a table needs; they are replaced, not added.
            assert entries2 <= entries + 40, (table_id, entries, entries2)
            assert strips2 <= strips + 40, (table_id, strips, strips2)


async def test_the_filter_is_applied_once_typing_pauses(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test() as pilot:
        await loaded(pilot, app)
        view = app.dashboard.vms
        await pilot.press("2", "slash")
        syncs: list[Any] = []
        real = view._sync

        def counted() -> None:
            syncs.append(view.filter)
            real()

        view._sync = counted  # type: ignore[method-assign]
        box = view.query_one(Input)
        for text in ("k", "ka", "kaf", "kafk", "kafka"):  # keys faster than the pause
            box.value = text
        await wait_for(pilot, lambda: view.filter is not None, what="the filter")
        await pilot.pause(0.2)
        filters = [f.text for f in syncs if f is not None]
        assert set(filters) == {"kafka"}, filters  # not once per key
        assert 0 < view.table.row_count < 121
        assert all("kafka" in str(view.table.get_cell(k, "name")) for k in view.table.keys)


async def test_clearing_a_filter_rebuilds_in_order_and_keeps_the_cursor(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test() as pilot:
        await loaded(pilot, app)
        view = app.dashboard.vms
        await pilot.press("2", "slash", *"kafka", "enter")
        await wait_for(pilot, lambda: 0 < view.table.row_count < 121, what="filtered")
        await pilot.press("down")
        kept = view.table.cursor_key
        await pilot.press("slash", "escape")
        await wait_for(pilot, lambda: view.table.row_count == 121, what="all rows back")
        assert view.table.cursor_key == kept
        names = [str(view.table.get_cell(k, "name")).lower() for k in view.table.keys]
        assert names == sorted(names)


async def test_a_hidden_tab_is_not_synced_and_catches_up_when_shown(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test() as pilot:
        await loaded(pilot, app)
        view = app.dashboard.vms  # the overview is on show
        calls: list[int] = []
        real = view._sync

        def counted() -> None:
            calls.append(app.polls)
            real()

        view._sync = counted  # type: ignore[method-assign]
        before = app.fleet.vms
        await wait_for(pilot, lambda: app.fleet.vms is not before, what="the VMs' load to move")
        assert calls == []
        await pilot.press("2")
        assert calls  # caught up on show
        shown = {k: str(view.table.get_cell(k, "cpu")) for k in view.table.keys}
        fresh = {v.uuid: v for v in app.fleet.vms}
        from ovtui.tui.columns import vm_cells

        assert shown == {k: str(vm_cells(fresh[k])[6]) for k in shown}
        synced, before = len(calls), app.fleet.vms
        await wait_for(pilot, lambda: app.fleet.vms is not before, what="the VMs' load to move")
        assert len(calls) > synced  # on show: synced at each poll that brings a change


async def test_a_big_fleets_vm_list_is_read_every_few_ticks(
    engine: DemoEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(poller_module, "VMS_PER_TICK", 50)  # 121 demo VMs: every 3rd tick
    client = AsyncClient(engine.socket, engine.token())
    try:
        poller = Poller(client)
        first = await poller.fleet()
        assert len(first.vms) == 121 and poller.vm_ticks == 3 and poller.vm_reads == 1
        second, third = await poller.fleet(), await poller.fleet()
        assert second.vms is first.vms and third.vms is first.vms  # not read again
        assert poller.vm_reads == 1
        await poller.fleet()  # the third tick after: read
        assert poller.vm_reads == 2
        again = await poller.fleet(vms=True)  # an action: read at once
        assert poller.vm_reads == 3 and len(again.vms) == 121
    finally:
        await client.aclose()


async def test_the_events_table_drops_its_oldest_rows_in_one_pass() -> None:
    from textual.app import App, ComposeResult

    from ovtui.tui.events_view import MAX_ROWS, TRIM_SLACK, EventsView

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield EventsView()

    app = Host()
    async with app.run_test() as pilot:
        view = app.query_one(EventsView)
        removed: list[object] = []
        real = view.table.remove_row

        def counted(key: Any) -> None:
            removed.append(key)
            real(key)

        view.table.remove_row = counted  # type: ignore[method-assign,assignment]
        seq = 0
        for _ in range(8):  # 1 600 events, 200 a poll
            batch = [{"seq": seq + i, "kind": "vm", "what": "started"} for i in range(200)]
            seq += 200
            view.add(batch)
            await pilot.pause()
        table = view.table
        assert removed == []  # no pass over the table per dropped row
        assert MAX_ROWS <= table.row_count <= MAX_ROWS + TRIM_SLACK
        keys = [int(str(r.key.value)) for r in table.ordered_rows]
        assert keys == list(range(seq - len(keys), seq))  # the newest, oldest first
        assert table.cursor_row == table.row_count - 1  # still following the newest


def test_the_collector_runs_a_full_collection_once_its_time_has_come() -> None:
    from ovtui.tui.gc_tuning import Collector

    collector = Collector(every=0.0)
    counts = gc.get_stats()[2]["collections"]
    try:
        collector.after_poll()
        assert collector.runs == 1 and gc.get_stats()[2]["collections"] > counts
        later = Collector(every=3600.0)
        later.after_poll()
        assert later.runs == 0
    finally:
        gc.unfreeze()


def test_what_exists_after_the_first_poll_is_left_out_of_later_collections() -> None:
    # The periodic full collection walked the whole heap (modules, the app, its widgets) every
    # 30 s: the largest single cost of an idle dashboard's minute after the polls themselves.
    from ovtui.tui.gc_tuning import Collector

    gc.unfreeze()
    started = [object(), [object()]]  # alive at the first poll and after it
    collector = Collector(every=3600.0)
    try:
        collector.after_poll()
        assert gc.get_freeze_count() > 0
        assert not any(o is started for o in gc.get_objects())  # not walked again
        later = [object()]
        collector.after_poll()  # frozen once: what came later is still walked (collectable)
        assert any(o is later for o in gc.get_objects())
    finally:
        gc.unfreeze()


async def test_a_poll_that_brings_nothing_new_hands_back_the_last_reading(
    engine: DemoEngine,
) -> None:
    client = AsyncClient(engine.socket, engine.token())
    try:
        poller = Poller(client)
        previous = await poller.fleet()
        for _ in range(50):  # the engine reads its hosts every second or so; we ask faster
            data = await poller.fleet()
            if data is previous:
                break
            previous = data
        else:
            raise AssertionError("every poll was parsed into a new reading")
        assert poller.unchanged >= 1 and poller.vm_reads >= 2
    finally:
        await client.aclose()


async def test_an_unchanged_poll_lays_out_nothing_and_touches_no_table(
    engine: DemoEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An idle dashboard re-laid out its whole screen at each poll (the top bar, the alerts and
    # the activity line were updated with the same text) and re-synced the tables.
    from textual.widget import Widget

    layouts: list[Widget] = []
    real_refresh = Widget.refresh

    def refresh(self: Widget, *regions: Any, layout: bool = False, **kw: Any) -> Widget:
        if layout:
            layouts.append(self)
        return real_refresh(self, *regions, layout=layout, **kw)

    seen: list[tuple[list[Widget], int, int]] = []
    real_updated = OvtuiApp.on_fleet_updated

    def updated(self: OvtuiApp, msg: Any) -> None:
        if msg.data is not self.fleet:
            real_updated(self, msg)
            return
        counts = [
            self.dashboard.overview.table._update_count,
            self.dashboard.vms.table._update_count,
        ]
        layouts.clear()
        monkeypatch.setattr(Widget, "refresh", refresh)
        try:
            real_updated(self, msg)
        finally:
            monkeypatch.setattr(Widget, "refresh", real_refresh)
        after = [
            self.dashboard.overview.table._update_count,
            self.dashboard.vms.table._update_count,
        ]
        seen.append((list(layouts), *(a - b for a, b in zip(after, counts, strict=True))))

    monkeypatch.setattr(OvtuiApp, "on_fleet_updated", updated)
    app = engine.app()
    async with app.run_test() as pilot:
        await loaded(pilot, app)
        await wait_for(pilot, lambda: len(seen) >= 3, what="unchanged polls")
        await pilot.press("2")
        count = len(seen)
        await wait_for(pilot, lambda: len(seen) >= count + 3, what="unchanged polls, VMs tab")
    for widgets, overview_changes, vm_changes in seen:
        assert widgets == [] and overview_changes == 0 and vm_changes == 0, widgets


async def test_a_poll_asks_the_import_system_for_nothing(engine: DemoEngine) -> None:
    # httpcore runs `import sniffio` for each lock it makes, several per request: while sniffio
    # was not installed each was a failed import, a search of every sys.path entry, two polls a
    # second's worth of stat() calls (~1/4 of an idle dashboard's CPU, bench/tui_figures.py).
    import sys
    from importlib.abc import MetaPathFinder

    asked: list[str] = []

    class Recorder(MetaPathFinder):
        def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
            asked.append(name)

    client = AsyncClient(engine.socket, engine.token())
    try:
        poller = Poller(client)
        await poller.fleet()
        await poller.events()  # every lazy import of a first request is done by now
        sys.meta_path.insert(0, Recorder())
        try:
            for _ in range(3):
                await poller.fleet(vms=True)
                await poller.events()
        finally:
            sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, Recorder)]
    finally:
        await client.aclose()
    assert asked == []


async def test_a_reading_with_new_figures_lays_out_nothing_on_the_overview(
    engine: DemoEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The trend lines' title ("last N polls") changes at each reading and was updated with a
    # layout of the whole screen; only the alerts (whose height follows them) may lay out.
    from textual.widget import Widget

    layouts: list[Widget] = []
    real_refresh = Widget.refresh

    def refresh(self: Widget, *regions: Any, layout: bool = False, **kw: Any) -> Widget:
        if layout:
            layouts.append(self)
        return real_refresh(self, *regions, layout=layout, **kw)

    readings = 0
    real_show = OvtuiApp._show_fleet

    def show(self: OvtuiApp, data: Any) -> None:
        nonlocal readings
        if not self.polls:  # the first fill lays the tables out: not what is checked
            real_show(self, data)
            return
        monkeypatch.setattr(Widget, "refresh", refresh)
        try:
            real_show(self, data)
        finally:
            monkeypatch.setattr(Widget, "refresh", real_refresh)
        readings += 1

    monkeypatch.setattr(OvtuiApp, "_show_fleet", show)
    app = engine.app()
    async with app.run_test() as pilot:
        await loaded(pilot, app)
        await wait_for(pilot, lambda: readings >= 3, what="readings with new figures")
    assert {w.id for w in layouts} <= {"alerts"}, [(type(w).__name__, w.id) for w in layouts]


def test_the_dashboards_start_loads_no_config_schema() -> None:
    # `ovtui dashboard --socket S` reads no config, yet the CLI imported the config's schema
    # (pydantic, ~0.1 s of every start) for every command.
    import subprocess
    import sys

    code = (
        "import sys, ovtui.cli.main, ovtui.tui.app; "
        "print(sorted(m for m in ('pydantic', 'ovtui.config.schema') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


async def test_the_first_reading_is_asked_for_while_the_session_is_checked(
    engine: DemoEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first poll waited for the session check and the dashboard's composition; the VM
    # list's answer (seconds at 20 000 VMs) then came on top of both at every start.
    seen: list[str] = []
    real_session, real_fleet = Poller.session, Poller.fleet

    async def session(self: Poller) -> Any:
        seen.append("session asked")
        try:
            return await real_session(self)
        finally:
            seen.append("session answered")

    async def fleet(self: Poller, vms: bool = False) -> Any:
        seen.append("fleet asked")
        before_first.append(app.polls == 0)
        return await real_fleet(self, vms)

    before_first: list[bool] = []

    monkeypatch.setattr(Poller, "session", session)
    monkeypatch.setattr(Poller, "fleet", fleet)
    app = engine.app()
    async with app.run_test() as pilot:
        await loaded(pilot, app)
        await wait_polls(pilot, app, 2)
    assert seen.index("fleet asked") < seen.index("session answered"), seen
    # The first poll took that reading rather than asking again.
    assert before_first.count(True) == 1, before_first


async def test_a_polls_GETs_do_not_go_through_httpx(
    engine: DemoEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each GET through httpx cost ~0.9 ms of CPU, four GETs every 2 s: a quarter of an idle
    # dashboard's CPU. The polls' GETs go over ovtui/uds_get.py's kept-alive connections.
    import httpx

    through: list[str] = []
    real = httpx.AsyncClient.request

    async def counted(self: httpx.AsyncClient, method: str, url: Any, **kw: Any) -> Any:
        through.append(f"{method} {url}")
        return await real(self, method, url, **kw)

    client = AsyncClient(engine.socket, engine.token())
    try:
        poller = Poller(client)
        monkeypatch.setattr(httpx.AsyncClient, "request", counted)
        first = await poller.fleet()
        await poller.events()
        again = await poller.fleet(vms=True)
        await poller.events()
    finally:
        await client.aclose()
    assert through == []
    assert len(first.vms) == len(again.vms) > 0 and first.hosts


async def test_a_poll_redraws_the_chrome_without_searching_the_screen(
    engine: DemoEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The top bar, banner and activity line were found by three queries of the whole screen at
    # each poll: a quarter of an idle tab's CPU.
    from ovtui.tui.chrome import FleetScreen

    searched: list[object] = []
    real = FleetScreen.query

    def counted(self: FleetScreen, *args: Any, **kwargs: Any) -> Any:
        searched.append(args)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(FleetScreen, "query", counted)
    app = engine.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        await pilot.press("1")
        await wait_polls(pilot, app, 1)
        searched.clear()
        summary = app.chrome.summary
        await wait_polls(pilot, app, 3)
        assert searched == []
        assert app.chrome.summary != summary  # the time moved: the top bar was drawn anew
        shown = app.screen.query_one("TopBar #summary", Static).render()
        assert str(shown) == app.chrome.summary
