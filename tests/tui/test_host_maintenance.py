"""Host maintenance on and off from the hosts table and the host detail, on a real engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from ovtui.tui.activity import Activity, ActivityLine
from ovtui.tui.confirm import ConfirmScreen
from ovtui.tui.host_actions import HostActionRunner
from ovtui.tui.host_detail import HostDetailScreen
from ovtui.tui.rows import FleetData
from tests.conftest import LiveEngine

from .conftest import api, wait_for
from .live_app import live_app


def host_state(live: LiveEngine, name: str) -> dict[str, object]:
    return dict(live.as_role("SuperUser").get(f"/api/v1/hosts/{name}").json())


async def test_maintenance_evacuates_then_activate_returns_the_host(
    start_engine: Callable[..., LiveEngine],
) -> None:
    live = start_engine()
    app = live_app(live)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.dashboard.hosts.table.row_count == 3, what="fleet")
        await pilot.press("1")
        hosts = app.dashboard.hosts
        hosts.table.select_key("h2")  # db-1 (8 GiB) fits on h1
        await pilot.pause()
        active = app.screen.active_bindings
        assert "M" in active and "A" not in active  # only what applies to an active host
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        question = app.screen.question  # type: ignore[attr-defined]
        assert question.startswith("Put h2 into maintenance?\n1 VM running on it will be migrated")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.host_actions.history, timeout=30, what="outcome")
        outcome = app.host_actions.history[-1]
        assert outcome.ok, outcome.text
        assert outcome.text == "h2: in maintenance, 1 VM moved"
        assert app.screen.query_one(ActivityLine).text == "✓ h2: in maintenance, 1 VM moved"
        detail = await api(host_state, live, "h2")
        assert detail["maintenance"] is True and detail["vms"] == []
        await wait_for(pilot, lambda: "A" in app.screen.active_bindings, what="activate key")
        assert "M" not in app.screen.active_bindings
        # From the host's detail screen: activate.
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostDetailScreen))
        await wait_for(pilot, lambda: "A" in app.screen.active_bindings, what="detail keys")
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        await pilot.press("y")
        await wait_for(pilot, lambda: len(app.host_actions.history) == 2, what="outcome")
        assert app.host_actions.history[-1].text == "h2: activated"
    assert (await api(host_state, live, "h2"))["maintenance"] is False


async def test_a_refused_evacuation_says_why_and_the_host_stays_active(
    start_engine: Callable[..., LiveEngine],
) -> None:
    live = start_engine()
    app = live_app(live)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.dashboard.hosts.table.row_count == 3, what="fleet")
        # h3 is alone in its cluster: its VM has nowhere to go.
        outcome = await app.host_actions.perform("h3", "maintenance")
        assert not outcome.ok and outcome.status == 409
        assert outcome.text.startswith("h3 cannot enter maintenance, nothing was moved")
    assert (await api(host_state, live, "h3"))["maintenance"] is False


async def test_maintenance_keys_need_host_manage_and_a_forced_one_shows_403(
    start_engine: Callable[..., LiveEngine],
) -> None:
    live = start_engine()
    app = live_app(live, "operator")
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.dashboard.hosts.table.row_count == 3, what="fleet")
        await pilot.press("1")
        active = app.screen.active_bindings
        assert "M" not in active and "A" not in active
        outcome = await app.host_actions.perform("h2", "maintenance")
        assert outcome.status == 403
        assert outcome.text.startswith("not allowed: operator may not host.manage on host h2")
        assert app.screen.query_one(ActivityLine).has_class("-error")


async def test_progress_counts_down_the_vms_still_on_the_host_at_each_poll() -> None:
    release = asyncio.Event()

    class SlowEngine:  # answers when the test says the evacuation is over
        async def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
            await release.wait()
            return {"result": "in maintenance", "moved": [{"vm": "a"}, {"vm": "b"}]}

    def fleet_with(*on_h1: str) -> FleetData:
        vms = [{"uuid": n, "name": n, "host": "h1", "state": "running"} for n in on_h1]
        return FleetData.from_json([{"name": "h1"}], vms, [])

    fleet = fleet_with("a", "b")
    activity = Activity()
    notices: list[str] = []
    app = SimpleNamespace(notify=lambda text, **kw: notices.append(text))
    runner = HostActionRunner(
        app,  # type: ignore[arg-type]
        SlowEngine(),  # type: ignore[arg-type]
        lambda: fleet,
        activity,
        lambda: None,
        lambda: "alice",
    )
    task = asyncio.create_task(runner.perform("h1", "maintenance"))
    await asyncio.sleep(0)
    assert activity.line == "⟳ evacuating h1 for maintenance: 2 VMs still on it…"
    fleet = fleet_with("b")
    runner.polled()
    assert activity.line == "⟳ evacuating h1 for maintenance: 1 VM still on it…"
    release.set()
    outcome = await task
    assert outcome.ok and notices == ["h1: in maintenance, 2 VMs moved"]
    assert activity.line == "✓ h1: in maintenance, 2 VMs moved"
