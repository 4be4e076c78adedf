"""The Overview tab against the demo engine: the tree, bars, trends, alerts, SYNTHETIC labels."""

from __future__ import annotations

import re

from textual.widgets import TabbedContent

from ovtui.tui.history import spark
from ovtui.tui.host_detail import HostDetailScreen
from ovtui.tui.rows import VmRow
from ovtui.tui.trend_line import TrendLine

from .conftest import DemoEngine, wait_for


async def test_overview_is_the_landing_tab_with_a_tree_bars_and_trends(
    engine: DemoEngine,
) -> None:
    app = engine.app()
    async with app.run_test(size=(80, 24)) as pilot:
        # Three samples of the trend (one per poll that brought new figures).
        await wait_for(
            pilot, lambda: len(app.history.cpu.get("dc1/prod-a", ())) >= 3, what="three samples"
        )
        assert app.dashboard.query_one(TabbedContent).active == "overview"
        view = app.dashboard.overview
        table = view.table
        assert table.has_focus
        keys = table.keys
        assert keys[:3] == ["dc1", "dc1/prod-a", "dc1/prod-a/kvm-a01"]
        assert len(keys) == 1 + 2 + 7 and keys.index("dc1/prod-b") == 6  # tree order
        assert str(table.get_cell("dc1", "state")).endswith("/7 up")
        vms = str(table.get_cell("dc1/prod-a", "vms"))
        running, defined = (int(n) for n in vms.split("/"))
        api_vms = engine.get("/api/v1/vms", cluster="prod-a")
        assert defined == len(api_vms) and 0 < running <= defined
        # Synthetic demo load: every CPU figure and trend is marked, memory is not.
        assert str(table.get_cell("dc1/prod-a/kvm-a01", "cpu")).endswith("%*")
        assert str(table.get_cell("dc1/prod-a/kvm-a01", "memory")).endswith("% ")
        trend = str(table.get_cell("dc1/prod-a", "trend"))
        assert trend.endswith("*") and len(trend) >= 3  # one block per sample so far
        # The sparklines follow the cursor and say the figures are synthetic.
        await pilot.press("down")
        title = str(view.query_one("#trend-title").render())
        assert title.startswith("dc1/prod-a: last") and "SYNTHETIC" in title
        cpu_line = view.query_one("#spark-cpu", TrendLine)
        assert len(cpu_line.values) >= 3
        drawn = str(cpu_line.render())
        assert len(drawn) == cpu_line.content_size.width and drawn.strip()  # newest at the right
        assert drawn[-1] == spark([cpu_line.values[-1]], 1)
        samples = len(app.history.cpu["dc1/prod-a"])
        # A sample per poll that brought new figures (the engine reads its hosts less often
        # than the dashboard asks; an unchanged answer is not a sample).
        for _ in range(2):
            before = app.fleet
            await wait_for(pilot, lambda b=before: app.fleet is not b, what="new figures")
        assert len(app.history.cpu["dc1/prod-a"]) >= samples + 2
        assert table.cursor_key == "dc1/prod-a"  # refreshes keep the cursor
        assert table.max_scroll_x == 0, "the overview must fit in 80 columns"


async def test_enter_opens_a_clusters_hosts_or_a_host(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.polls and app.dashboard.overview.table.row_count)
        table = app.dashboard.overview.table
        table.select_key("dc1/prod-b")
        await pilot.press("enter")
        assert app.dashboard.query_one(TabbedContent).active == "hosts"
        hosts = app.dashboard.hosts.table
        await wait_for(pilot, lambda: hosts.keys == ["kvm-b01", "kvm-b02", "kvm-b03"])
        await pilot.press("0")
        table.select_key("dc1/prod-a/kvm-a02")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostDetailScreen))
        assert app.screen.host_name == "kvm-a02"  # type: ignore[attr-defined]


async def test_alerts_count_and_list_this_sessions_failures(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.polls, what="a poll")
        view = app.dashboard.overview
        assert view.alerts_text.startswith("Alerts: ")
        running = next(v for v in engine.get("/api/v1/vms", state="running"))
        # Starting a running VM is refused by the engine (409): a failure to list.
        outcome = await app.vm_actions.perform(VmRow.from_json(running), "start")
        assert not outcome.ok
        await wait_for(pilot, lambda: "your action failed" in view.alerts_text, what="alert")
        assert running["name"] in view.alerts_text
        assert re.match(r"Alerts: \d+ errors? ", view.alerts_text)
