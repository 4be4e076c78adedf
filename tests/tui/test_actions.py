"""VM actions through the dashboard against a real engine: confirm, migrate picker, RBAC."""

from __future__ import annotations

from typing import Any

from textual.widgets import Footer

from ovtui.tui.activity import ActivityLine
from ovtui.tui.app import OvtuiApp
from ovtui.tui.confirm import ConfirmScreen
from ovtui.tui.migrate_picker import MigratePicker
from ovtui.tui.rows import VmRow

from .conftest import DemoEngine, api, wait_for

ACTION_KEYS = {"s", "d", "x", "r", "p", "m"}


def pick_vm(engine: DemoEngine, cluster: str, max_mib: int = 8192) -> dict[str, Any]:
    """A running VM that may move: not HA (the HA job could react), not pinned, small."""
    return next(
        v
        for v in engine.get("/api/v1/vms", cluster=cluster, state="running")
        if not v["highly_available"]
        and not v["pinned"]
        and v["migratable"]
        and v["memory_mib"] <= max_mib
    )


async def open_vms_tab_on(pilot, app: OvtuiApp, uuid: str) -> None:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: app.permissions and app.dashboard.vms.table.row_count > 100)
    await pilot.press("2")
    app.dashboard.vms.table.select_key(uuid)
    await pilot.pause()
    selected = app.dashboard.vms.selected()
    assert selected is not None and selected.uuid == uuid


async def test_poweroff_asks_then_powers_the_vm_off(engine: DemoEngine) -> None:
    vm = pick_vm(engine, "prod-b")
    app = engine.app()
    async with app.run_test() as pilot:
        await open_vms_tab_on(pilot, app, vm["uuid"])
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert vm["name"] in app.screen.question
        await pilot.press("n")  # No: nothing happens
        await pilot.pause(0.2)
        assert not app.vm_actions.history
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.vm_actions.history, what="the outcome")
        outcome = app.vm_actions.history[-1]
        assert outcome.ok, outcome.text
        assert outcome.text == f"{vm['name']}: powered off"
        assert app.screen.query_one(ActivityLine).text.startswith("✓")

        def state() -> str:
            return str(engine.get(f"/api/v1/vms/{vm['uuid']}")["state"])

        await wait_for(pilot, lambda: state() == "shutoff", what="shutoff in the API")
        table = app.dashboard.vms.table
        await wait_for(pilot, lambda: str(table.get_cell(vm["uuid"], "state")) == "shutoff")


async def test_migrate_picker_offers_same_cluster_up_hosts_and_moves_the_vm(
    engine: DemoEngine,
) -> None:
    vm = pick_vm(engine, "prod-a", max_mib=4096)
    hosts = engine.get("/api/v1/hosts")
    expected = {
        h["name"]
        for h in hosts
        if h["cluster"] == vm["cluster"] and h["state"] == "up" and h["name"] != vm["host"]
    }
    assert expected and len(expected) < len(hosts) - 1  # other clusters exist and are excluded
    app = engine.app()
    async with app.run_test() as pilot:
        await open_vms_tab_on(pilot, app, vm["uuid"])
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MigratePicker))
        picker = app.screen
        assert isinstance(picker, MigratePicker)
        assert {h.name for h in picker.targets} == expected
        target = sorted(expected)[-1]
        table = picker.query_one("#targets")
        table.move_cursor(row=table.get_row_index(target))  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = app.screen.question  # type: ignore[attr-defined]
        assert f"to {target}" in question and "cold" in question
        await pilot.press("y")
        await wait_for(pilot, lambda: app.vm_actions.history, what="the outcome")
        outcome = app.vm_actions.history[-1]
        assert outcome.ok, outcome.text
        assert "moved (cold)" in outcome.text and "restarted" in outcome.text
        moved = await api(engine.get, f"/api/v1/vms/{vm['uuid']}")
        assert moved["host"] == target


async def test_viewer_gets_no_action_keys_and_a_forced_action_shows_403(
    engine: DemoEngine,
) -> None:
    vm = pick_vm(engine, "prod-b")
    app = engine.app("viewer")
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.user == "viewer")
        await open_vms_tab_on(pilot, app, vm["uuid"])
        active = app.screen.active_bindings
        assert "slash" in active  # reading is allowed
        assert not ACTION_KEYS & set(active)
        footer_keys = {k.key for k in app.screen.query_one(Footer).query("FooterKey")}  # type: ignore[attr-defined]
        assert "slash" in footer_keys and not ACTION_KEYS & footer_keys
        await pilot.press("x", "m")  # hidden keys do nothing
        await pilot.pause(0.2)
        assert not app.vm_actions.history and app.screen is app.dashboard
        # Forced past the hidden keys, the engine refuses and the dashboard says why.
        outcome = await app.vm_actions.perform(VmRow.from_json(vm), "poweroff")
        assert outcome.status == 403 and not outcome.ok
        assert outcome.text.startswith("not allowed: viewer may not vm.power")
        line = app.screen.query_one(ActivityLine)
        assert line.text.startswith("✗ not allowed") and line.has_class("-error")
    assert engine.get(f"/api/v1/vms/{vm['uuid']}")["state"] == "running"
