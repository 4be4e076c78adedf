"""The `:` command line and the themes, driven with keys against the demo engine."""

from __future__ import annotations

from textual.widgets import Footer, Input, TabbedContent

from ovtui.tui.app import OvtuiApp
from ovtui.tui.command_prompt import CommandPrompt
from ovtui.tui.help_screen import HelpScreen
from ovtui.tui.host_detail import HostDetailScreen
from ovtui.tui.vm_detail import VmDetailScreen

from .conftest import DemoEngine, wait_for


async def command(pilot, app: OvtuiApp, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("colon")
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPrompt), what="the prompt")
    await pilot.press(*text, "enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, CommandPrompt))


async def test_commands_switch_views_scope_tables_and_open_details(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.dashboard.vms.table.row_count == 121, what="fleet")
        tabs = app.dashboard.query_one(TabbedContent)
        await command(pilot, app, "vms prod-b")
        assert tabs.active == "vms" and app.dashboard.vms.table.has_focus
        prod_b = engine.get("/api/v1/vms", cluster="prod-b")
        table = app.dashboard.vms.table
        assert sorted(table.keys) == sorted(v["uuid"] for v in prod_b)
        assert "cluster prod-b" in str(app.dashboard.vms.query_one("#vm-scope").render())
        await command(pilot, app, "vms")
        assert table.row_count == 121
        await command(pilot, app, "hosts prod-a")
        assert tabs.active == "hosts"
        assert app.dashboard.hosts.table.keys == ["kvm-a01", "kvm-a02", "kvm-a03", "kvm-a04"]
        await command(pilot, app, "host kvm-b02")
        assert isinstance(app.screen, HostDetailScreen) and app.screen.host_name == "kvm-b02"
        name = prod_b[0]["name"]
        await command(pilot, app, f"vm {name}")  # from a detail screen too
        assert isinstance(app.screen, VmDetailScreen) and app.screen.vm.name == name
        await command(pilot, app, "events")
        assert app.screen is app.dashboard and tabs.active == "events"
        await command(pilot, app, "overview")
        assert tabs.active == "overview"
        await command(pilot, app, "help")
        assert isinstance(app.screen, HelpScreen)
        assert (":vms [cluster]", "the VMs table, of one cluster or all") in app.screen.keys
        await pilot.press("escape")


async def test_unknown_commands_name_the_valid_ones_and_tab_completes(
    engine: DemoEngine,
) -> None:
    app = engine.app()
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.polls, what="a poll")
        await command(pilot, app, "frobnicate")
        assert app.command_error is not None
        assert app.command_error.startswith("unknown command :frobnicate — valid: audit, events")
        assert app.screen is app.dashboard
        await command(pilot, app, "vms prod-z")
        assert app.command_error == "no cluster 'prod-z' (clusters: prod-a, prod-b)"
        await pilot.press("colon", *"hos", "tab")
        prompt = app.screen.query_one(Input)
        assert prompt.value == "host"
        await pilot.press("space", *"kvm-b0", "tab")
        assert prompt.value == "host kvm-b0"  # three hosts fit: no further
        await pilot.press("3", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HostDetailScreen))
        assert app.command_error is None
        await pilot.press("colon", "escape")  # cancelled: nothing happens
        assert isinstance(app.screen, HostDetailScreen)


async def test_theme_light_and_dark_and_quit(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.polls, what="a poll")
        assert app.theme == "textual-dark"
        dark_bg = app.screen.styles.background
        await command(pilot, app, "theme light")
        assert app.theme == "textual-light"
        await pilot.pause()
        assert app.screen.styles.background != dark_bg
        await pilot.press("T")
        assert app.theme == "textual-dark"
        footer = app.screen.query_one(Footer)
        assert footer.region.bottom == 24
        await command(pilot, app, "q")
    assert app.return_code == 0


async def test_a_large_terminal_uses_the_room(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 2, what="polls")
        table = app.dashboard.overview.table
        assert table.size.height > 40 and table.max_scroll_y == 0  # the whole tree at once
        trend = app.dashboard.overview.query_one("#spark-cpu")
        assert trend.size.width > 150


async def test_policies_and_audit_commands_open_the_views_registered_for_them(
    engine: DemoEngine,
) -> None:
    app = engine.app()
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.polls, what="a poll")
        for name, screen in (("policies", "PoliciesScreen"), ("audit", "AuditScreen")):
            await command(pilot, app, name)
            assert app.command_error is None
            assert type(app.screen).__name__ == screen
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.dashboard, what="back")


async def test_audit_is_refused_to_those_without_audit_read(engine: DemoEngine) -> None:
    app = engine.app("operator")
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.polls, what="a poll")
        await command(pilot, app, "audit")
        assert app.command_error == ":audit needs audit.read (system-wide); operator has not"
        assert app.screen is app.dashboard
