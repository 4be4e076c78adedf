"""The VM disks screen (from VM detail, `D`) against a real in-process engine on test-driver
hosts: its rows, add (with the undo when attaching is refused), a cold move with its stages,
a running move's progress, confirmations, errors as the API words them, and rights.

The test driver has volumes and cold copies but no hot-plug or resize: those refusals are what
the screen must show here; the lab test (tests/lab/test_disk_copy_lab.py) grows and detaches.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from ovtui.storage.move_model import DiskMove, Endpoint
from ovtui.tui.confirm import ConfirmScreen
from ovtui.tui.fields_form import FieldsForm
from ovtui.tui.keyed_table import KeyedTable
from ovtui.tui.vm_detail import VmDetailScreen
from ovtui.tui.vm_disk_rows import create_body, move_body, parse_size
from ovtui.tui.vm_disks_view import VmDisksScreen
from tests.conftest import API, LiveEngine
from tests.storage.helpers import all_read, storage_spec, wait_storage, with_domains

from .conftest import wait_for
from .policy_fleet import Session

GIB = 1 << 30
DATA = (
    "<volume><name>data.qcow2</name><capacity>1073741824</capacity><allocation>0</allocation>"
    "<target><format type='qcow2'/></target></volume>"
)


def test_sizes_and_bodies() -> None:
    assert parse_size("2G") == 2 * GIB and parse_size("512M") == 512 << 20
    assert parse_size("1.5GiB") == 3 * GIB // 2 and parse_size("4096") == 4096
    with pytest.raises(ValueError, match=r"write e\.g\. 2G"):
        parse_size("big")
    form = {"domain": "loc", "name": "d", "size": "1G", "format": "", "allocation": ""}
    assert create_body(form) == {
        "name": "d",
        "size_bytes": GIB,
        "format": "qcow2",
        "allocation": "thin",
    }
    with pytest.raises(ValueError, match="thin or preallocated"):
        create_body({**form, "allocation": "fat"})
    assert move_body({"storage": "san", "volume": "unit:0:0:2", "bandwidth": ""}) == {
        "storage": "san",
        "volume": "unit:0:0:2",
        "bandwidth_mib_s": 0,
    }
    with pytest.raises(ValueError, match="MiB/s"):
        move_body({"storage": "b", "volume": "", "bandwidth": "fast"})


def _prepare(root: Path) -> None:
    """h1 has the `loc` pool already, holding data.qcow2, which app-1 uses as vdb."""
    node = next(root.rglob("h1.xml"))
    pool = (
        "<pool type='dir'><name>ovtui-loc</name><target><path>/var/lib/vm</path></target>"
        f"{DATA}</pool>"
    )
    vdb = (
        '<disk type="volume" device="disk"><driver name="qemu" type="qcow2"/>'
        '<source pool="ovtui-loc" volume="data.qcow2"/><target dev="vdb" bus="virtio"/></disk>'
    )
    text = node.read_text().replace("</devices>", vdb + "</devices>", 1)
    node.write_text(text.replace("</node>", pool + "</node>"))


@pytest.fixture
def live() -> Iterator[LiveEngine]:
    config = with_domains(
        storage_spec(),
        [
            {"name": "loc", "type": "local", "path": "/var/lib/vm", "hosts": ["h1"]},
            {"name": "other", "type": "local", "path": "/srv/other", "hosts": ["h1"]},
        ],
        _prepare,
    )
    engine = LiveEngine(config)
    try:
        yield engine
    finally:
        engine.stop()
        shutil.rmtree(config.engine.store_dir.parent, ignore_errors=True)


def _screen(session: Session, user: str, allowed: bool) -> Any:
    vm = session.live.engine.snapshot().vms_named("app-1")[0]
    opener = partial(VmDisksScreen, vm="app-1", uuid=vm.uuid, allowed=allowed)
    return session.host(user, opener)  # type: ignore[arg-type]


def _said(screen: VmDisksScreen) -> str:
    return str(screen.query_one("#vm-disks-said", Static).render())


async def _fill(pilot: Any, app: Any, values: dict[str, str]) -> None:
    await wait_for(pilot, lambda: isinstance(app.screen, FieldsForm), what="the form")
    for key, value in values.items():
        app.screen.query_one(f"#f-{key}", Input).value = value
    await pilot.click("#ok")


async def test_rows_add_refusals_and_a_cold_move(live: LiveEngine) -> None:
    session = Session(live)
    admin = live.client(session.token("admin"))
    wait_storage(admin, all_read)
    app = _screen(session, "admin", True)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.view
        await wait_for(pilot, lambda: screen.loads, what="the VM's disks")
        table = screen.query_one("#vm-disks", KeyedTable)
        assert [str(c) for c in table.get_row("vdb")][:6] == [
            "vdb",
            "loc",
            "data.qcow2",
            "qcow2",
            "1.0G",
            "0B",
        ]
        assert str(table.get_row("vda")[1]) == "(file)"  # not on an ovtui domain
        assert "storage domains: loc, other" in _said(screen)

        # add: the disk is made, the attach refused (no hot-plug here): shown, and undone
        await pilot.press("a")
        await _fill(pilot, app, {"domain": "loc", "name": "extra", "size": "2G"})
        await wait_for(pilot, lambda: "deleted again" in _said(screen), what="the undo")
        assert "refused: " in _said(screen) and "not supported" in _said(screen)
        names = [d["name"] for d in admin.get(f"{API}/disks", params={"storage": "loc"}).json()]
        assert names == ["data.qcow2"]  # nothing half-made
        # a bad size never reaches the API; a refusal of the API is shown as it says it
        await pilot.press("a")
        await _fill(pilot, app, {"name": "x", "size": "lots"})
        await wait_for(pilot, lambda: "is not a size" in _said(screen), what="the size error")
        await pilot.press("a")
        await _fill(pilot, app, {"name": "data", "size": "1G"})
        await wait_for(pilot, lambda: "refused: " in _said(screen), what="the refusal")
        assert "storage domain loc already has a disk 'data'" in _said(screen)

        table.move_cursor(row=table.get_row_index("vdb"))
        await pilot.press("e")
        await _fill(pilot, app, {"size": "512M"})
        await wait_for(pilot, lambda: "only grows" in _said(screen), what="the grow error")
        await pilot.press("m")
        await _fill(pilot, app, {"storage": "other"})
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        question = str(app.screen.query_one("#question").render())
        assert question == "Move app-1's vdb from loc to other?"
        await pilot.press("n")  # no: nothing moves
        await wait_for(pilot, lambda: app.screen is screen, what="back")
        assert admin.get(f"{API}/disk-moves").json() == []
        # shut off, it copies; the test driver clones only within one pool, so the copy fails
        # here (the lab moves for real): the failure is shown as the API words it
        assert admin.post(f"{API}/vms/app-1/poweroff").status_code == 200
        await pilot.press("m")
        await _fill(pilot, app, {"storage": "other"})
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: "refused: " in _said(screen), what="the move's end")
        assert "refused: copy data.qcow2 to other app-1 on h1 failed" in _said(screen)
        await wait_for(pilot, lambda: "failed" in _moves(screen), what="the failed move listed")
        assert "app-1 vdb loc→other failed" in _moves(screen)
        assert str(table.get_row("vdb")[1]) == "loc"  # still on its source


def _moves(screen: VmDisksScreen) -> str:
    return str(screen.query_one("#vm-disk-moves", Static).render())


async def test_a_running_move_shows_its_stage_and_progress(live: LiveEngine) -> None:
    session = Session(live)
    wait_storage(live.client(session.token("admin")), all_read)
    vm = live.engine.snapshot().vms_named("app-1")[0]
    running = DiskMove(
        "m1",
        vm.name,
        vm.uuid,
        "h1",
        "vdb",
        True,
        Endpoint("loc", "data.qcow2"),
        Endpoint("other", "data.qcow2"),
        GIB,
        stage="copying",
        bytes_done=GIB // 4,
        bytes_total=GIB,
        started_at=1.0,
    )
    live.engine.store.table("disk_moves").insert(running.as_dict())
    app = _screen(session, "admin", True)
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.view
        await wait_for(pilot, lambda: screen.loads, what="the VM's disks")
        row = [str(c) for c in screen.query_one("#vm-disks", KeyedTable).get_row("vdb")]
        assert row[6] == "copying → other"
        moves = _moves(screen)
        assert "app-1 vdb loc→other copying ▇▇▇░░░░░░░  25% (256.0M/1.0G)" in moves


async def test_without_disk_manage_no_action_is_offered(live: LiveEngine) -> None:
    session = Session(live)
    wait_storage(live.client(session.token("admin")), all_read)
    app = session.app("viewer")
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.fleet.vms, what="the VMs")
        app.open_vm(next(v for v in app.fleet.vms if v.name == "app-1"))
        await wait_for(pilot, lambda: isinstance(app.screen, VmDetailScreen), what="detail")
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, VmDisksScreen), what="disks")
        screen = app.screen
        await wait_for(pilot, lambda: screen.loads, what="the VM's disks")
        assert screen.query_one("#vm-disks", KeyedTable).row_count == 2
        for action in ("add", "grow", "move", "detach", "delete"):
            assert not screen.check_action(action, ())
        await pilot.press("a")
        await pilot.pause(0.1)
        assert app.screen is screen  # no form
