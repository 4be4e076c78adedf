"""Signing in through the dashboard against a real engine, and each way it can be refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.widgets import Input

from ovtui.config.schema import Config, LdapConfig
from ovtui.tui.app import OvtuiApp
from ovtui.tui.login_screen import LoginScreen
from tests.conftest import PASSWORD, LiveEngine, fleet_config, standard_spec

from .conftest import FAST_REFRESH, wait_for
from .live_app import live_app


async def sign_in(pilot, app: OvtuiApp, user: str, password: str) -> LoginScreen:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen), what="sign-in screen")
    screen = app.screen
    assert isinstance(screen, LoginScreen)
    before = screen.attempts
    screen.query_one("#login-user", Input).value = user
    screen.query_one("#login-password", Input).focus()
    await pilot.press(*password, "enter")
    await wait_for(pilot, lambda: screen.attempts > before, what="the engine's answer")
    return screen


async def test_no_token_signs_in_then_shows_the_fleet_and_signs_out_on_quit(
    start_engine: Callable[..., LiveEngine],
) -> None:
    live = start_engine()
    app = live_app(live, user=None)
    async with app.run_test() as pilot:
        await sign_in(pilot, app, "operator", PASSWORD)
        await wait_for(pilot, lambda: app.screen is app.dashboard and app.polls, what="fleet")
        assert app.user == "operator" and app.signed_in_here
        assert app.dashboard.hosts.table.row_count == 3
        token = app.client.token
        assert live.client(token).get("/api/v1/sessions/current").status_code == 200
        await pilot.press("q")
    # The session the dashboard opened ends with it.
    assert live.client(token).get("/api/v1/sessions/current").status_code == 401


async def test_a_valid_saved_token_skips_the_sign_in(
    start_engine: Callable[..., LiveEngine],
) -> None:
    live = start_engine()
    token = live.login("viewer")
    app = OvtuiApp(live.socket, token, refresh_seconds=FAST_REFRESH)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.polls, what="a poll")
        assert app.user == "viewer" and not app.signed_in_here
        assert all(not isinstance(s, LoginScreen) for s in app.screen_stack)
    # Not the dashboard's session: it stays for the CLI that saved it.
    assert live.client(token).get("/api/v1/sessions/current").status_code == 200


async def test_wrong_password_then_lockout_then_a_stale_token(
    start_engine: Callable[..., LiveEngine],
) -> None:
    live = start_engine(
        config=_with_auth(fleet_config(standard_spec()), throttle={"max_failures": 2})
    )
    app = OvtuiApp(live.socket, "stale-token", refresh_seconds=FAST_REFRESH)
    async with app.run_test() as pilot:
        screen = await sign_in(pilot, app, "operator", "wrong")  # the stale token: sign in
        assert screen.problem is not None and screen.problem.kind == "refused"
        assert "Wrong user name or password" in screen.problem_text
        assert screen.query_one("#login-password", Input).value == ""
        assert screen.query_one("#login-user", Input).value == "operator"
        await sign_in(pilot, app, "operator", "wrong again")
        assert screen.problem.kind == "locked"
        assert "too many failed sign-ins for user operator" in screen.problem_text
        await sign_in(pilot, app, "operator", PASSWORD)  # the right password: still locked
        assert screen.problem.kind == "locked"
        assert "try again in about 15 min" in screen.problem_text
        assert app.screen is screen


async def test_directory_down_is_said_so(start_engine: Callable[..., LiveEngine]) -> None:
    ldap = LdapConfig(
        urls=["ldap://127.0.0.1:1"],  # nothing listens there: the directory is down
        tls="none",
        allow_insecure=True,
        user_dn_template="uid={username},ou=people,dc=example,dc=org",
        connect_timeout_seconds=1,
    )
    live = start_engine(config=_with_auth(fleet_config(standard_spec()), ldap=ldap))
    app = live_app(live, user=None)
    async with app.run_test() as pilot:
        screen = await sign_in(pilot, app, "alice", "secret")  # not local: goes to LDAP
        assert screen.problem is not None and screen.problem.kind == "directory"
        assert "Directory unavailable" in screen.problem_text
        assert "break-glass" in screen.problem_text  # the engine's own advice, kept


async def test_engine_unreachable_is_said_at_once() -> None:
    app = OvtuiApp(Path("/nonexistent/ovtui.sock"), None)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LoginScreen))
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        await wait_for(pilot, lambda: screen.problem is not None, what="the health check")
        assert screen.problem is not None and screen.problem.kind == "unreachable"
        assert "Engine unreachable: cannot reach the engine at /nonexistent" in screen.problem_text
        await pilot.press("escape")  # leaves without signing in
    assert app.return_code == 0


def _with_auth(config: Config, **auth: Any) -> Config:
    changes: dict[str, Any] = {}
    if "throttle" in auth:
        changes["throttle"] = config.auth.throttle.model_copy(update=auth["throttle"])
    if "ldap" in auth:
        changes["ldap"] = auth["ldap"]
    return config.model_copy(update={"auth": config.auth.model_copy(update=changes)})
