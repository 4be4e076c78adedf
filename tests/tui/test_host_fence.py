"""Host power actions from the dashboard: fence where a host has power management, "confirm
rebooted" only for a non-responsive host; on a real engine."""

from __future__ import annotations

from collections.abc import Callable

from ovtui.config.power_schema import PowerConfig
from ovtui.tui.confirm import ConfirmScreen
from tests.conftest import LiveEngine, fleet_config, standard_spec

from .conftest import wait_for
from .live_app import live_app

# A BMC that obeys at once and then reports the host off (exit 3), like fence_ipmilan's status.
OBEYS = PowerConfig(kind="command", on=["true"], off=["true"], status=["sh", "-c", "exit 3"])


async def test_fence_from_the_hosts_table(start_engine: Callable[..., LiveEngine]) -> None:
    config = fleet_config(standard_spec())
    hosts = [h.model_copy(update={"power": OBEYS}) if h.name == "h2" else h for h in config.hosts]
    live = start_engine(config=config.model_copy(update={"hosts": hosts}))
    app = live_app(live)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.dashboard.hosts.table.row_count == 3, what="fleet")
        await pilot.press("1")
        app.dashboard.hosts.table.select_key("h1")  # no power management: no fence key
        await pilot.pause()
        assert "F" not in app.screen.active_bindings and "C" not in app.screen.active_bindings
        app.dashboard.hosts.table.select_key("h2")
        await pilot.pause()
        assert "F" in app.screen.active_bindings and "C" not in app.screen.active_bindings
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        assert app.screen.question.startswith("Fence h2?\nIts BMC powers it off")  # type: ignore[attr-defined]
        await pilot.press("y")
        await wait_for(pilot, lambda: app.host_actions.history, timeout=30, what="outcome")
        outcome = app.host_actions.history[-1]
        assert outcome.ok, outcome.text
        assert outcome.text == "h2 fenced (power-off confirmed), powered on again"
    (rec,) = [r for r in live.engine.audit_log.tail(20) if r["action"] == "host.fence"]
    assert (rec["actor"], rec["result"]) == ("admin", "ok")
