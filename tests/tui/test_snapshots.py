"""Snapshots of the main screens at 80x24 and 160x48: any change of a character or a colour
fails until the snapshot is regenerated (OVTUI_UPDATE_SNAPSHOTS=1, see snapshot.py).

Deterministic by construction: a fixed test-driver fleet, synthetic load frozen at one instant,
plan ids in order, no refresh after the first (the tests wait for each screen's own load), the
same sign-ins in the same order (so the same audit trail), and no clock in any frame: the top
bar's time is replaced, and the policy and audit screens' times go through clock.shown, which is
replaced too.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from textual.widgets import DataTable

from ovtui.tui import clock
from ovtui.tui.app import OvtuiApp
from ovtui.tui.audit_view import AuditScreen
from ovtui.tui.chrome import FleetScreen
from ovtui.tui.help_screen import HelpScreen
from ovtui.tui.host_detail import HostDetailScreen
from ovtui.tui.plan_screen import PlanScreen
from ovtui.tui.policies_view import PoliciesScreen
from ovtui.tui.vm_detail import VmDetailScreen

from .conftest import wait_for
from .policy_fleet import Session, frozen_engine, policy_spec
from .snapshot import assert_snapshot, frame

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}
Show = Callable[[Any, OvtuiApp], Awaitable[None]]


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    with frozen_engine(policy_spec()) as live:
        fixed = Session(live)
        fixed.token("admin")  # sign-ins first, in this order, whatever tests run
        fixed.call("admin", "POST", "/api/v1/policies/c1/run")  # plan0001, two steps
        yield fixed


@pytest.fixture(autouse=True)
def no_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "shown", lambda value: "-" if value is None else "11-22 08:00:00")


# -- how to reach each screen ----------------------------------------------------------------
async def tab(pilot: Any, app: OvtuiApp, key: str) -> None:
    await pilot.press(key)


async def vms(pilot: Any, app: OvtuiApp) -> None:
    await tab(pilot, app, "2")


async def hosts(pilot: Any, app: OvtuiApp) -> None:
    await tab(pilot, app, "1")


async def overview(pilot: Any, app: OvtuiApp) -> None:
    await tab(pilot, app, "0")


def text_on_top(app: OvtuiApp, screen: type, selector: str) -> str:
    """The text of a widget on the top screen, once that screen is of the given type."""
    if not isinstance(app.screen, screen) or not app.screen.query(selector):
        return ""
    return str(app.screen.query_one(selector).render())


async def host_detail(pilot: Any, app: OvtuiApp) -> None:
    app.open_host("h1")
    await wait_for(pilot, lambda: "committed" in text_on_top(app, HostDetailScreen, "#capacity"))


async def vm_detail(pilot: Any, app: OvtuiApp) -> None:
    app.open_vm(next(v for v in app.fleet.vms if v.name == "hot-a-1"))
    title = "#migrations-title"
    await wait_for(pilot, lambda: "No migrations" in text_on_top(app, VmDetailScreen, title))


async def policies(pilot: Any, app: OvtuiApp) -> None:
    app.open_view(PoliciesScreen)
    await wait_for(pilot, lambda: getattr(app.screen, "loads", 0) >= 1)


async def plan(pilot: Any, app: OvtuiApp) -> None:
    await policies(pilot, app)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.loads >= 1)


async def audit(pilot: Any, app: OvtuiApp) -> None:
    app.open_view(AuditScreen)
    await wait_for(pilot, lambda: getattr(app.screen, "loads", 0) >= 1)


async def help_on_vms(pilot: Any, app: OvtuiApp) -> None:
    await vms(pilot, app)
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))


SCREENS: dict[str, Show] = {
    "overview": overview,
    "hosts": hosts,
    "vms": vms,
    "host_detail": host_detail,
    "vm_detail": vm_detail,
    "policies": policies,
    "plan": plan,
    "audit": audit,
    "help": help_on_vms,
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", SCREENS)
async def test_screen(session: Session, screen: str, size: str) -> None:
    app = OvtuiApp(session.live.socket, session.token("admin"), refresh_seconds=3600)
    async with app.run_test(size=SIZES[size]) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1, what="the first poll")
        await SCREENS[screen](pilot, app)
        # The top bar ends with the time of the last poll: a fixed one instead.
        app.chrome.summary = re.sub(r"\d\d:\d\d:\d\d$", "08:00:00", app.chrome.summary)
        for shown in app.screen_stack:
            if isinstance(shown, FleetScreen):
                shown.redraw_chrome()
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await wait_for(pilot, lambda: _settled(app), what="the screen to settle")
        # Under load a table's header can stay as first painted, with the columns at the width
        # of their labels, while its rows already show the computed widths: paint the tables
        # again once everything is computed, and take the frame once that paint is done.
        for table in app.screen.query(DataTable):
            table.refresh()
        await wait_for(pilot, lambda: _settled(app), what="the screen to settle")
        assert_snapshot(f"{screen}-{size}", frame(app))


def _settled(app: OvtuiApp) -> bool:
    """No table has column widths left to compute and the screen has no layout or paint pending.

    On a loaded machine a frame taken right after the data arrived could show the tables with
    their columns still at the width of their labels (DataTable sizes them when idle): wait for
    that state, not for some time. (Textual internals: there is no public "settled" flag.)
    """
    screen = app.screen  # only the current screen is laid out and painted when idle
    if any(t._require_update_dimensions for t in screen.query(DataTable)):
        return False
    return not (
        screen._layout_required
        or screen._scroll_required
        or screen._repaint_required
        or screen._dirty_widgets
    )
