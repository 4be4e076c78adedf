"""A lost engine shows a banner on every screen; the dashboard stays usable meanwhile."""

from __future__ import annotations

from textual.widgets import Input

from ovtui.demo import DEMO_PASSWORD, stop_engine
from ovtui.tui.app import OvtuiApp
from ovtui.tui.banner import ConnectionBanner
from ovtui.tui.login_screen import LoginScreen

from .conftest import DemoEngine, api, wait_for


async def test_engine_stopped_shows_a_banner_and_nothing_freezes(own_engine: DemoEngine) -> None:
    app = own_engine.app()
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.dashboard.hosts.table.row_count == 7)
        await pilot.press("1", "enter")  # a detail screen: the banner must show there too
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HostDetailScreen")
        banner = app.screen.query_one(ConnectionBanner)
        assert not banner.shown
        stop_engine(own_engine.proc)
        await wait_for(pilot, lambda: banner.shown, what="the banner")
        assert "ENGINE CONNECTION LOST" in str(banner.render())
        assert "retrying" in str(banner.render())
        polls = app.polls
        # keys still work: they are handled (the cursor moves) while no poll gets through
        await pilot.press("escape", "2", "down", "down")
        assert app.dashboard.query_one(ConnectionBanner).shown
        assert app.dashboard.vms.table.cursor_row == 2  # the last data stays browsable
        assert app.polls == polls
        # Back again, but sessions live in the engine's memory: the banner says what to do,
        # and the sign-in screen comes back over the dashboard.
        await api(own_engine.restart)
        await wait_for(pilot, lambda: "sign in again" in str(banner_text(app)), what="401")
        await wait_for(pilot, lambda: "Session ended" in login_text(app), what="sign-in screen")
        assert app.screen.query_one("#login-user", Input).value == "admin"  # kept
        await pilot.press(*DEMO_PASSWORD, "enter")
        await wait_for(pilot, lambda: app.screen is app.dashboard, what="back on the dashboard")
        shown = app.dashboard.query_one(ConnectionBanner)
        await wait_for(pilot, lambda: not shown.shown and app.polls > polls, what="banner gone")


def banner_text(app: OvtuiApp) -> str:
    return str(app.dashboard.query_one(ConnectionBanner).render())


def login_text(app: OvtuiApp) -> str:
    screen = app.screen
    return screen.problem_text if isinstance(screen, LoginScreen) and screen.is_mounted else ""
