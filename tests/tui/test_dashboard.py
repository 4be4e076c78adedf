"""The dashboard against a real engine on the demo fleet: tables, badge, filter, refresh, help."""

from __future__ import annotations

from textual.widgets import Footer, Input

from ovtui.tui.app import OvtuiApp
from ovtui.tui.help_screen import HelpScreen
from ovtui.tui.top_bar import TopBar

from .conftest import DemoEngine, wait_for, wait_polls

DEMO_HOSTS, DEMO_VMS = 7, 121


async def loaded(pilot, app: OvtuiApp) -> None:  # type: ignore[no-untyped-def]
    await wait_for(
        pilot,
        lambda: app.dashboard.vms.table.row_count == DEMO_VMS and app.user is not None,
        what="the fleet",
    )


async def test_tables_fill_and_synthetic_load_is_labelled(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        hosts = app.dashboard.hosts.table
        assert hosts.row_count == DEMO_HOSTS
        assert hosts.keys == sorted(hosts.keys)  # sorted by name
        badge = app.screen.query_one(TopBar).query_one("#synthetic-badge")
        assert badge.display and badge.region.right <= 80 and badge.region.y == 0
        assert "SYNTHETIC LOAD (demo)" in str(badge.render())
        cpu = hosts.get_cell(hosts.keys[0], "cpu")
        assert str(cpu).endswith("%*")  # every synthetic figure is marked
        await pilot.press("2")
        vms = app.dashboard.vms.table
        assert vms.has_focus
        assert vms.max_scroll_x == 0, "the VM table must fit in 80 columns"


async def test_filter_narrows_the_vm_table(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test() as pilot:
        await loaded(pilot, app)
        view = app.dashboard.vms
        await pilot.press("2", "slash")
        assert view.query_one(Input).has_focus
        await pilot.press(*"kafka")
        await wait_for(pilot, lambda: 0 < view.table.row_count < DEMO_VMS)
        names = [str(view.table.get_cell(k, "name")) for k in view.table.keys]
        assert all("kafka" in n for n in names)
        view.query_one(Input).value = "re:^web-frontend-0[1-3]$"
        await wait_for(pilot, lambda: view.table.row_count == 3, what="regex filter")
        view.query_one(Input).value = "re:(["  # a bad regex keeps the last good filter
        await pilot.pause(0.1)
        assert view.table.row_count == 3 and view.query_one(Input).has_class("-invalid")
        await pilot.press("enter")
        assert view.table.has_focus
        await wait_polls(pilot, app)  # a refresh keeps the filter
        assert view.table.row_count == 3
        await pilot.press("escape")
        await wait_for(pilot, lambda: view.table.row_count == DEMO_VMS, what="filter cleared")
        await pilot.press("slash", *"db", "escape")  # escape in the input clears it too
        await wait_for(pilot, lambda: view.table.row_count == DEMO_VMS, what="filter cleared")
        assert view.table.has_focus and not view.filter_input.has_class("-shown")


async def test_refresh_keeps_the_cursor_row(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test() as pilot:
        await loaded(pilot, app)
        table = app.dashboard.vms.table
        await pilot.press("2", "pagedown", "pagedown", "down")
        key, row, scroll = table.cursor_key, table.cursor_row, table.scroll_y
        assert row > 20 and scroll > 0
        await wait_polls(pilot, app, 3)
        assert (table.cursor_key, table.cursor_row, table.scroll_y) == (key, row, scroll)
        # Sorted by CPU% the rows move at each refresh; the cursor follows its VM.
        table.sort_by("cpu", reverse=True)
        assert table.cursor_key == key
        await wait_polls(pilot, app, 3)
        assert table.cursor_key == key


async def test_sort_by_key_and_header(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test() as pilot:
        await loaded(pilot, app)
        table = app.dashboard.hosts.table
        await pilot.press("1", "o")  # next column: state
        assert table.sort_column == "state"
        await pilot.press("O")
        assert table.sort_reverse
        # A click on the "CPUs" header sorts by it, a second click reverses.
        x = sum(c.get_render_width(table) for c in list(table.columns.values())[:3]) + 2
        await pilot.click(table, offset=(x, 0))
        assert (table.sort_column, table.sort_reverse) == ("cpus", False)
        cpus = [table.get_cell(k, "cpus").sort_key for k in table.keys]  # type: ignore[union-attr]
        assert cpus == sorted(cpus)
        await pilot.click(table, offset=(x, 0))
        assert (table.sort_column, table.sort_reverse) == ("cpus", True)


async def test_help_lists_the_current_screens_keys(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test() as pilot:
        await loaded(pilot, app)
        await pilot.press("2", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        texts = {desc for _, desc in app.screen.keys}
        assert "migrate to another host of its cluster" in texts
        assert "filter: text, or re:regex" in texts
        await pilot.press("escape", "1", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert not any("migrate" in d for _, d in app.screen.keys)  # Hosts tab: no VM actions
        await pilot.press("escape")
        footer = app.screen.query_one(Footer)
        assert footer.region.bottom == 24


async def test_host_and_vm_detail(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test() as pilot:
        await loaded(pilot, app)
        await pilot.press("1", "enter")  # first host
        await wait_for(
            pilot, lambda: "committed" in str(app.screen.query_one("#capacity").render())
        )
        capacity = str(app.screen.query_one("#capacity").render())
        assert "kvm-a01" in capacity and "over-commit" in capacity and "SYNTHETIC" in capacity
        await pilot.press("enter")  # first VM of that host
        await wait_for(pilot, lambda: type(app.screen).__name__ == "VmDetailScreen")
        assert "uuid" in str(app.screen.query_one("#fields").render())
        await pilot.press("escape", "escape")
        assert app.screen is app.dashboard
