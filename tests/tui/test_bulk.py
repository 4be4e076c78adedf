"""Multi-select in the VMs table and bulk actions on a real engine (standard_spec fleet)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text

from ovtui.tui.bulk_progress import BulkProgress
from ovtui.tui.confirm import ConfirmScreen
from ovtui.tui.fmt import SELECTED_STYLE
from tests.conftest import LiveEngine

from .conftest import DemoEngine, api, wait_for, wait_polls
from .live_app import live_app


def marked(cell: object) -> bool:
    return isinstance(cell, Text) and str(cell.style) == SELECTED_STYLE


def uuid_of(live: LiveEngine, name: str) -> str:
    return str(live.as_role("SuperUser").get(f"/api/v1/vms/{name}").json()["uuid"])


async def test_space_and_ctrl_a_select_rows_and_refreshes_keep_the_selection(
    start_engine: Callable[..., LiveEngine],
) -> None:
    live = start_engine()
    app = live_app(live)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.dashboard.vms.table.row_count == 8, what="fleet")
        view = app.dashboard.vms
        await pilot.press("2")
        first, second = view.table.keys[:2]
        await pilot.press("space")  # selects, and moves on to the next row
        assert view.selection == {first} and view.table.cursor_key == second
        assert marked(view.table.get_cell(first, "name"))
        assert not marked(view.table.get_cell(second, "name"))
        assert "1 selected" in str(view.query_one("#vm-scope").render())
        await wait_polls(pilot, app, 2)
        assert view.selection == {first}  # refreshes keep it, and the mark
        assert marked(view.table.get_cell(first, "name"))
        assert view.table.max_scroll_x == 0, "selection marks must not push past 80 columns"
        # ctrl+a: every row the filter shows; again: none of them.
        await pilot.press("slash", *"h1", "enter")
        await wait_for(pilot, lambda: view.table.row_count == 6, what="filter")
        await pilot.press("ctrl+a")
        shown = set(view.table.keys)
        assert view.selection == shown | {first}
        await pilot.press("ctrl+a")
        assert view.selection == {first} - shown
        await pilot.press("space", "escape", "escape")  # esc: the filter, then the selection
        assert not view.selection and view.table.row_count == 8


async def test_bulk_power_off_asks_once_shows_progress_and_sums_up(
    start_engine: Callable[..., LiveEngine],
) -> None:
    live = start_engine()
    app = live_app(live)
    names = ["web-2", "db-1", "off-1"]  # off-1 is shut off already: the engine refuses it
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.dashboard.vms.table.row_count == 8, what="fleet")
        view = app.dashboard.vms
        await pilot.press("2", "slash", *"re:^(web-2|db-1|off-1)$", "enter")
        await wait_for(pilot, lambda: view.table.row_count == 3, what="filter")
        await pilot.press("ctrl+a", "x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        question = app.screen.question  # type: ignore[attr-defined]
        assert question.startswith("Power off 3 VMs?") and all(n in question for n in names)
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, BulkProgress), what="progress")
        await wait_for(pilot, lambda: app.bulk.jobs, timeout=30, what="the outcomes")
        job = app.bulk.jobs[-1]
        assert {i.vm.name for i in job.ok} == {"web-2", "db-1"}
        assert [i.vm.name for i in job.failed] == ["off-1"]
        assert job.summary.startswith("power off: 2 ok, 1 failed\noff-1: ")
        progress = app.screen
        assert isinstance(progress, BulkProgress)
        assert str(progress.query_one("#bulk-title").render()) == "power off: 2 ok, 1 failed"
        await pilot.press("escape")
    states = {
        n: (await api(live.as_role("SuperUser").get, f"/api/v1/vms/{n}")).json()["state"]
        for n in names
    }
    assert states == {"web-2": "shutoff", "db-1": "shutoff", "off-1": "shutoff"}


async def test_a_selection_offers_only_what_the_operator_may_do_on_it(
    start_engine: Callable[..., LiveEngine],
) -> None:
    live = start_engine()
    admin = live.as_role("SuperUser")
    grant = {"user": "viewer", "role": "Operator", "scope": "cluster", "object": "c2"}
    assert admin.post("/api/v1/grants", json=grant).status_code == 201
    app = live_app(live, "viewer")  # signs in after the grant: it applies
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.dashboard.vms.table.row_count == 8, what="fleet")
        view = app.dashboard.vms
        await pilot.press("2")
        view.table.select_key(uuid_of(live, "web-2"))  # cluster c1: read-only there
        await pilot.pause()
        assert "x" not in app.screen.active_bindings
        view.table.select_key(uuid_of(live, "other-1"))  # cluster c2: Operator there
        await pilot.pause()
        assert "x" in app.screen.active_bindings and "m" not in app.screen.active_bindings
        # Both selected: offered (one may), and done only where allowed.
        view.selection = {uuid_of(live, "web-2"), uuid_of(live, "other-1")}
        view.refresh_bindings()
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        question = app.screen.question  # type: ignore[attr-defined]
        assert question.startswith("Power off 1 VM?\nother-1")
        assert "(1 VM of the selection left out: not yours to power off)" in question
        await pilot.press("y")
        await wait_for(pilot, lambda: app.bulk.jobs, timeout=30, what="the outcome")
        assert [i.vm.name for i in app.bulk.jobs[-1].ok] == ["other-1"]
    assert admin.get("/api/v1/vms/web-2").json()["state"] == "running"


async def test_a_full_selection_still_fits_80_columns_on_the_demo_fleet(
    engine: DemoEngine,
) -> None:
    app = engine.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.dashboard.vms.table.row_count == 121, what="fleet")
        await pilot.press("2", "ctrl+a")
        table = app.dashboard.vms.table
        assert len(app.dashboard.vms.selection) == 121
        assert all(marked(table.get_cell(k, "name")) for k in table.keys)
        await pilot.pause()
        assert table.max_scroll_x == 0
