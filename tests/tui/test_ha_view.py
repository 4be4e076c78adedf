"""The HA screen (`:ha`): the reservation line, a host waiting to be fenced with the HA VMs that
wait on it, and HA restarts in progress, read through the API from a real engine."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ovtui.config import Config
from ovtui.tui.ha_rows import host_cells, left_down_text, recovery_cells, reservation_line
from ovtui.tui.ha_view import HaScreen
from ovtui.tui.keyed_table import KeyedTable
from tests.api.test_host_failure import hung_host
from tests.conftest import API, LiveEngine, fleet_config, standard_spec

from .conftest import DemoEngine, wait_for
from .live_app import live_app
from .test_command_line import command


def test_cells() -> None:
    line = reservation_line(
        {
            "c2": {"ok": True, "detail": "every host's HA VMs fit on the others", "ha_vms": 1},
            "c1": {"ok": False, "detail": "if h1 fails, big-1 cannot restart: x", "ha_vms": 2},
        }
    )
    assert line.plain == (
        "HA reservation: c1 LOST (2 HA VMs): if h1 fails, big-1 cannot restart: x · c2 ok (1 HA VM)"
    )
    host = {
        "stage": "suspect",
        "since": 100.0,
        "held": "fencing disabled in the first 300 s",
        "last_error": "",
        "fenced_by": "",
        "waiting": [
            {"vm": "a", "uuid": "u1", "priority": 90},
            {"vm": "b", "uuid": "u2", "priority": 5},
        ],
    }
    assert host_cells(host, 130.0) == (
        "not responding (grace)",
        "30s",
        "fencing disabled in the first 300 s",
        "a (90), b (5)",
    )
    rec = {
        "vm": "a",
        "uuid": "u1",
        "from": "h1",
        "priority": 90,
        "cause": "fenced",
        "stage": "pending",
        "attempts": 2,
        "next_try": 200.0,
        "last_error": "no host can take a",
    }
    assert recovery_cells(rec, 170.0) == (
        "a", "90", "h1", "fenced", "pending", "2", "in 30s", "no host can take a",
    )  # fmt: skip
    assert recovery_cells({**rec, "next_try": 100.0}, 170.0)[6] == "due"
    assert recovery_cells({**rec, "stage": "starting"}, 170.0)[6] == "now"
    assert left_down_text([]) == ""
    assert left_down_text([{"vm": "w", "host": "h1"}]) == "left down (not HA): w of h1"


def _short_guards(config: Config) -> Config:
    clusters = [
        c.model_copy(update={"ha": c.ha.model_copy(update={
            "non_responsive_grace_seconds": 0.0, "restart_retry_seconds": 600.0})})
        for c in config.clusters
    ]  # fmt: skip
    return config.model_copy(update={"clusters": clusters})


async def test_a_lost_host_its_waiting_vms_and_the_restarts_in_progress(
    start_engine: Callable[..., LiveEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = fleet_config(standard_spec(), libvirt_call_timeout_seconds=1.0)
    live = start_engine(config=_short_guards(config))
    admin = live.as_role("SuperUser")
    # big-1 (40 GiB) first: no other host of c1 has room for it (h2: 32 GiB, no over-commit)
    for vm, prio in (("big-1", 90), ("web-1", 40)):
        resp = admin.put(f"{API}/vms/{vm}/ha", json={"ha": True, "priority": prio})
        assert resp.status_code == 200, resp.text
    app = live_app(live)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.polls, what="a poll")
        await command(pilot, app, "ha")
        screen = app.screen
        assert isinstance(screen, HaScreen), app.command_error

        def lost_shown() -> bool:
            return "c1 LOST" in screen.reservation_text

        await wait_for(pilot, lost_shown, timeout=20, what="c1's reservation lost")
        assert "if h1 fails, big-1 cannot restart" in screen.reservation_text
        assert "c2 ok (0 HA VMs)" in screen.reservation_text
        hosts = screen.query_one("#ha-hosts", KeyedTable)
        recoveries = screen.query_one("#ha-recoveries", KeyedTable)
        assert hosts.row_count == 0 and recoveries.row_count == 0

        with hung_host(live, "h1", monkeypatch):

            def waiting() -> bool:
                return "h1" in hosts.keys and str(hosts.get_row("h1")[1]) == "NEEDS CONFIRMATION"

            await wait_for(pilot, waiting, timeout=30, what="h1 waiting for confirmation")
            row = [str(c) for c in hosts.get_row("h1")]
            assert "no power management" in row[3], row
            assert row[4] == "big-1 (90), web-1 (40)"  # highest priority first
            assert recoveries.row_count == 0  # never before it is fenced (or confirmed)

            resp = admin.post(f"{API}/hosts/h1/confirm-rebooted")
            assert resp.status_code == 200, resp.text
            big = live.engine.snapshot().vms_named("big-1")[0].uuid
            web = live.engine.snapshot().vms_named("web-1")[0].uuid

            def both() -> bool:
                keys = list(recoveries.keys)
                return keys == [big, web] and str(recoveries.get_row(big)[5]) == "1"

            await wait_for(pilot, both, timeout=30, what="both recoveries, big-1's tried once")
            big_row = [str(c) for c in recoveries.get_row(big)]
            assert big_row[:6] == ["big-1", "90", "h1", "fenced", "pending", "1"], big_row
            assert big_row[6].startswith("in ") and "no host can take big-1" in big_row[7]
            web_row = [str(c) for c in recoveries.get_row(web)]
            # web-1 waits for the higher-priority big-1 (up to priority_wait_seconds)
            assert web_row[:6] == ["web-1", "40", "h1", "fenced", "pending", "0"], web_row
            assert str(hosts.get_row("h1")[1]) == "fenced"
            await pilot.press("escape")
            assert not isinstance(app.screen, HaScreen)


async def test_the_demo_opens_its_ha_screen(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.polls, what="a poll")
        await command(pilot, app, "ha")
        screen = app.screen
        assert isinstance(screen, HaScreen), app.command_error
        await wait_for(pilot, lambda: screen.loads, what="the HA status")
        assert screen.reservation_text.startswith("HA reservation: ")
