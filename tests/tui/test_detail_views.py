"""The detail screens against the demo engine: a VM's disks, NICs and trend; a host's events."""

from __future__ import annotations

from textual.widgets import DataTable

from ovtui.testdriver_fleet import demo_spec
from ovtui.testdriver_fleet.files import vm_mac
from ovtui.tui.app import OvtuiApp
from ovtui.tui.host_detail import NO_EVENTS_READ, HostDetailScreen
from ovtui.tui.trend_line import TrendLine
from ovtui.tui.vm_detail import VmDetailScreen

from .conftest import DemoEngine, api, wait_for, wait_polls


def _text(app: OvtuiApp, selector: str) -> str:
    """The widget's text on the top screen; "" while that screen is still mounting."""
    found = app.screen.query(selector)
    return str(found.first().render()) if found else ""


async def test_vm_detail_shows_disks_nics_and_a_synthetic_trend(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_polls(pilot, app, 2)
        vm = next(v for v in app.fleet.vms if v.running and v.host == "kvm-a01")
        # A sample per reading that brought new figures (an unchanged poll adds none).
        await wait_for(pilot, lambda: len(app.vm_history.cpu(vm.uuid)) >= 2, what="2 samples")
        spec = next(s for _h, s in demo_spec().vms() if s.name == vm.name)
        app.open_vm(vm)
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, VmDetailScreen) and "disk " in _text(app, "#fields"),
            what="the VM's devices",
        )
        fields = _text(app, "#fields")
        assert f"disk    vda  virtio  disk  file /var/lib/libvirt/images/{vm.name}.qcow2" in fields
        assert f"nic     {vm_mac(spec)}  virtio  network default  → testnet0" in fields
        title = _text(app, "#vm-trend-title")
        assert "SYNTHETIC" in title and "0-100%" in title
        cpu = app.screen.query_one("#vm-spark-cpu", TrendLine)
        memory = app.screen.query_one("#vm-spark-memory", TrendLine)
        assert len(cpu.values) >= 2 and all(0.0 <= v <= 1.0 for v in cpu.values)
        assert memory.values and set(memory.values) == {1.0}  # the demo's guests hold it all
        # Each new reading adds a sample, and the open screen draws it.
        before = len(cpu.values)
        await wait_for(pilot, lambda: len(cpu.values) > before, what="a new sample drawn")
        assert cpu.values == app.vm_history.cpu(vm.uuid)
        drawn = str(cpu.render())
        assert drawn.strip() and len(drawn) == cpu.content_size.width


async def test_host_detail_shows_its_events_newest_first(engine: DemoEngine) -> None:
    victim = next(
        v for v in engine.get("/api/v1/vms", host="kvm-a02", state="running") if not v["pinned"]
    )
    client = engine.client()
    try:
        await api(client.post, f"/api/v1/vms/{victim['uuid']}/poweroff")
    finally:
        client.close()
    expected = engine.get("/api/v1/events", host="kvm-a02", limit=20)
    assert expected and all(e["host"] == "kvm-a02" for e in expected)
    app = engine.app()
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_polls(pilot, app, 1)
        app.open_host("kvm-a02")

        def shown() -> bool:  # the events arrive first, then the table is filled from them
            screen = app.screen
            if not isinstance(screen, HostDetailScreen) or not screen.events:
                return False
            return screen.query_one("#host-events", DataTable).row_count == len(screen.events)

        await wait_for(pilot, shown, what="the host's events in its table")
        screen = app.screen
        assert isinstance(screen, HostDetailScreen)
        table = screen.query_one("#host-events", DataTable)
        assert table.display and table.row_count == len(screen.events or [])
        assert _text(app, "#events-title") == "Recent events (newest first)"
        seqs = [e["seq"] for e in screen.events or []]
        assert seqs == sorted(seqs, reverse=True)  # newest first
        assert {e["host"] for e in screen.events or []} == {"kvm-a02"}
        newest_vm = next(e for e in screen.events or [] if e.get("vm"))
        assert newest_vm["vm"] == victim["name"]  # the power-off just done comes first
        row = [str(c) for c in table.get_row_at(seqs.index(newest_vm["seq"]))]
        assert row[1:4] == ["vm", victim["name"], newest_vm["what"]]


async def test_host_detail_without_events_read_says_why(engine: DemoEngine) -> None:
    # The demo's clusteradmin holds ClusterAdmin on prod-a only: events.read is system-wide.
    app = engine.app("clusteradmin")
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_polls(pilot, app, 1)
        assert "events.read" not in app.rights.system
        app.open_host("kvm-a01")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, HostDetailScreen) and app.screen.host is not None,
            what="the host detail",
        )
        await wait_polls(pilot, app, 1)  # a reload too: still no events asked for, none shown
        assert _text(app, "#events-title") == NO_EVENTS_READ
        assert not app.screen.query_one("#host-events", DataTable).display
        assert app.screen.events is None  # type: ignore[attr-defined]


async def test_a_tick_reloads_no_screen_that_is_not_mounted_yet(engine: DemoEngine) -> None:
    """A tick right after a push reloaded the new screen before its on_mount made the events
    table's columns; an answer landing first failed with "More values than columns"."""
    app = engine.app()
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_polls(pilot, app, 1)
        reloads: list[int] = []  # the events table's columns at each reload (-1: not composed)
        screen = HostDetailScreen(app.chrome, "kvm-a01", app.poller, lambda: app.fleet, app.rights)
        plain_reload = screen.reload

        def counted() -> None:
            found = screen.query("#host-events")
            reloads.append(len(found.first(DataTable).columns) if found else -1)
            plain_reload()

        screen.reload = counted  # type: ignore[method-assign]
        app.push_screen(screen)
        app.tick()  # before the screen's mount has run
        await wait_for(pilot, lambda: screen.is_mounted and reloads, what="the screen mounted")
        assert reloads[0] == 5, f"reloaded before the events table had its columns: {reloads}"
        events = screen.query_one("#host-events", DataTable)
        await wait_for(pilot, lambda: events.row_count > 0, what="the host's events")
