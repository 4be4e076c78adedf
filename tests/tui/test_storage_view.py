"""The storage screen against a real in-process engine, and its cells."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from textual.widgets import Static

from ovtui.storage.move_model import DiskMove, Endpoint
from ovtui.tui.keyed_table import KeyedTable
from ovtui.tui.storage_rows import bar, host_bars, move_line
from ovtui.tui.storage_view import StorageScreen
from tests.conftest import API, LiveEngine
from tests.storage.helpers import all_read, storage_spec, wait_storage, with_domains

from .conftest import DemoEngine, wait_for
from .policy_fleet import Session
from .test_command_line import command

GIB = 1 << 30


def test_cells() -> None:
    assert bar(4, 10) == "▇▇▇▇░░░░░░  40%"
    assert bar(0, 0) == "░░░░░░░░░░   -"
    domain = {
        "hosts": [
            {"host": "h1", "state": "active", "allocation_bytes": GIB, "capacity_bytes": 4 * GIB},
            {"host": "h2", "state": "error", "allocation_bytes": 0, "capacity_bytes": 0},
        ]
    }
    assert host_bars(domain) == "h1 ▇▇▇░░░░░░░  25%  h2 error"
    move = DiskMove(
        "m",
        "vm1",
        "u",
        "h1",
        "vdb",
        True,
        Endpoint("a", "d.img"),
        Endpoint("b", "d.img"),
        4 * GIB,
        stage="copying",
        bytes_done=GIB,
        bytes_total=4 * GIB,
    ).as_dict()
    assert move_line(move) == "vm1 vdb a→b copying ▇▇▇░░░░░░░  25% (1.0G/4.0G)"


@pytest.fixture
def live() -> Iterator[LiveEngine]:
    config = with_domains(
        storage_spec(), [{"name": "loc", "type": "local", "path": "/srv/vm", "hosts": ["h1"]}]
    )
    engine = LiveEngine(config)
    try:
        yield engine
    finally:
        engine.stop()
        shutil.rmtree(config.engine.store_dir.parent, ignore_errors=True)


async def test_domains_disks_and_moves(live: LiveEngine) -> None:
    session = Session(live)
    admin = live.client(session.token("admin"))
    wait_storage(admin, all_read)
    made = admin.post(f"{API}/storage/loc/disks", json={"name": "data", "size_bytes": GIB})
    assert made.status_code == 201, made.text
    vm = live.engine.snapshot().vms_named("app-1")[0]
    running = DiskMove(
        "m1",
        vm.name,
        vm.uuid,
        "h1",
        "vdb",
        True,
        Endpoint("loc", "x.qcow2"),
        Endpoint("other", "x.qcow2"),
        4 * GIB,
        stage="copying",
        bytes_done=GIB,
        bytes_total=4 * GIB,
        started_at=1.0,
    )
    live.engine.store.table("disk_moves").insert(running.as_dict())
    app = session.host("admin", StorageScreen)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.view
        assert isinstance(screen, StorageScreen)
        await wait_for(pilot, lambda: screen.loads, what="the storage data")
        domains = screen.query_one("#storage-domains", KeyedTable)
        assert domains.row_count == 1
        row = [str(c) for c in domains.get_row("loc")]
        assert row[:5] == ["loc", "local", "active", "100.0G", "100.0G"]
        assert row[5].startswith("h1 ░░░░░░░░░░")
        disks = screen.query_one("#storage-disks", KeyedTable)
        assert [str(c) for c in disks.get_row("loc/data.qcow2")][:5] == [
            "data",
            "loc",
            "qcow2",
            "thin",
            "1.0G",
        ]
        moves = str(screen.query_one("#storage-moves", Static).render())
        assert "app-1 vdb loc→other copying ▇▇▇░░░░░░░  25% (1.0G/4.0G)" in moves


async def test_the_demo_opens_its_storage_with_a_command(engine: DemoEngine) -> None:
    app = engine.app()
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.polls, what="a poll")
        await command(pilot, app, "storage")
        screen = app.screen
        assert isinstance(screen, StorageScreen), app.command_error

        def active() -> bool:
            table = screen.query_one("#storage-domains", KeyedTable)
            return (
                screen.loads > 0
                and table.row_count == 1
                and str(table.get_row("dc1-shared")[2]) == "active"
            )

        await wait_for(pilot, active, timeout=20, what="the demo's shared domain, active")
