"""Actions refused while a disk move holds the VM (ovtui/engine/move_guard.py), on test-driver
hosts: a move under way (its copy held by the test at a gate) and one known only from the store,
as an engine that stopped mid-move leaves it for the next one."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, cast

import httpx
import pytest

from ovtui.engine.move_guard import refusal
from ovtui.storage.disks import DiskService
from ovtui.storage.move_model import DiskMove, Endpoint
from ovtui.storage.move_runner import Progress
from tests.conftest import API, LiveEngine, eventually
from tests.storage.helpers import all_read, storage_spec, wait_storage, with_domains
from tests.storage.test_disks_api import _prepare

GIB = 1 << 30


class GatedDriver:
    """A cold move whose copy waits for the test to open the gate; the rest does nothing."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.copying = threading.Event()
        self._gate = asyncio.Event()
        self._loop = loop

    def open(self) -> None:
        self._loop.call_soon_threadsafe(self._gate.set)

    async def copy_volume(self, m: DiskMove, progress: Progress) -> DiskMove:
        self.copying.set()
        await self._gate.wait()
        return replace(m, dest=replace(m.dest, path="/var/lib/vm2/data.qcow2"))

    async def create_target(self, m: DiskMove) -> DiskMove:
        return m

    async def start_copy(self, m: DiskMove) -> None: ...
    async def wait_ready(self, m: DiskMove, progress: Progress) -> None: ...
    async def pivot(self, m: DiskMove) -> None: ...
    async def update_definition(self, m: DiskMove) -> None: ...
    async def delete_source(self, m: DiskMove) -> None: ...
    async def cancel_copy(self, m: DiskMove) -> None: ...
    async def delete_target(self, m: DiskMove) -> None: ...

    async def job_running(self, m: DiskMove) -> bool:
        return False

    async def uses_target(self, m: DiskMove) -> bool:
        return False


@pytest.fixture
def live(start_engine: Callable[..., LiveEngine]) -> Iterator[LiveEngine]:
    """app-1 on h1, shut off, its vdb (data.qcow2) on domain loc; loc2 also on h1."""
    config = with_domains(
        storage_spec(),
        [
            {"name": "loc", "type": "local", "path": "/var/lib/vm", "hosts": ["h1"]},
            {"name": "loc2", "type": "local", "path": "/var/lib/vm2", "hosts": ["h1"]},
        ],
        _prepare,
    )
    live = start_engine(config=config)
    admin = live.as_role("SuperUser")
    wait_storage(admin, all_read)
    assert admin.post(f"{API}/vms/app-1/poweroff").status_code == 200
    eventually(lambda: _state(admin) == "shutoff", what="app-1 shut off")
    yield live


def _state(admin: httpx.Client) -> str:
    vm = next(v for v in admin.get(f"{API}/vms").json() if v["name"] == "app-1")
    return str(vm["state"])


def _uuid(live: LiveEngine) -> str:
    return next(v.uuid for v in live.engine.snapshot().vms if v.name == "app-1")


def _refused(resp: httpx.Response, action: str, what: str, move_id: str) -> None:
    assert resp.status_code == 409, resp.text
    message = resp.json()["error"]["message"]
    assert message.startswith(
        f"{action} {what} refused: disk move {move_id} of app-1's vdb from loc to loc2 is in "
        "flight (stage "
    ), message
    assert message.endswith(
        f"wait for it to finish (GET /api/v1/disk-moves/{move_id} shows its progress)"
    ), message


def _refusals(live: LiveEngine) -> list[tuple[str, str]]:
    rows = live.engine.audit_log.read(since_seq=0)
    return [(r["action"], r["result"]) for r in rows if "disk move" in r.get("detail", "")]


def test_a_vm_whose_disk_is_being_copied_is_not_started_migrated_or_changed(
    live: LiveEngine,
) -> None:
    admin = live.as_role("SuperUser")
    driver = GatedDriver(live.loop)
    live.engine.moves.runner.driver = driver
    mover = live.as_role("SuperUser")  # its own client: it waits in another thread
    answer: list[httpx.Response] = []
    thread = threading.Thread(
        target=lambda: answer.append(
            mover.post(f"{API}/vms/app-1/disks/vdb/move", json={"storage": "loc2"})
        )
    )
    thread.start()
    try:
        assert driver.copying.wait(20), "the copy did not begin"
        (move,) = admin.get(f"{API}/disk-moves").json()
        assert (move["stage"], move["live"]) == ("copying", False)
        mid = move["id"]
        _refused(admin.post(f"{API}/vms/app-1/start"), "vm.start", "app-1", mid)
        _refused(
            admin.post(f"{API}/vms/app-1/migrate", json={"target": "h2"}),
            "vm.migrate",
            "app-1",
            mid,
        )
        _refused(admin.delete(f"{API}/vms/app-1/disks/vdb"), "disk.detach", "app-1", mid)
        _refused(
            admin.post(f"{API}/vms/app-1/disks/vda/move", json={"storage": "loc2"}),
            "disk.move",
            "app-1",
            mid,
        )
        _refused(
            admin.post(f"{API}/vms/app-1/snapshots", json={"name": "s1"}),
            "vm.snapshot",
            "app-1",
            mid,
        )
        _refused(
            admin.post(f"{API}/storage/loc/disks/data.qcow2/grow", json={"size_bytes": 2 * GIB}),
            "disk.grow",
            "loc/data.qcow2",
            mid,
        )
        assert _state(admin) == "shutoff"
    finally:
        driver.open()
        thread.join(30)
    assert answer and answer[0].status_code == 200, answer and answer[0].text
    assert _refusals(live) == [
        ("vm.start", "failed"),
        ("vm.migrate", "failed"),
        ("disk.detach", "failed"),
        ("disk.move", "failed"),
        ("vm.snapshot", "failed"),
        ("disk.grow", "failed"),
    ]
    started = admin.post(f"{API}/vms/app-1/start")  # the move is over: the VM starts
    assert started.status_code == 200, started.text


def _stored(live: LiveEngine, stage: str) -> dict[str, Any]:
    """A cold move onto a LUN as an engine that stopped mid-way leaves it in the store."""
    move = DiskMove(
        id="0123456789ab",
        vm="app-1",
        vm_uuid=_uuid(live),
        host="h1",
        target_dev="vdb",
        live=False,
        helper=True,
        source=Endpoint("loc", "data.qcow2", "/var/lib/vm/data.qcow2"),
        dest=Endpoint("loc2", "data.qcow2"),
        capacity=GIB,
        stage=stage,
        started_at=time.time(),
    )
    record = move.as_dict()
    live.engine.store.table("disk_moves").insert(record)
    return record


def test_a_move_left_in_the_store_holds_its_vm_until_its_definition_names_the_target(
    live: LiveEngine,
) -> None:
    admin = live.as_role("SuperUser")
    _stored(live, "copying")
    _refused(admin.post(f"{API}/vms/app-1/start"), "vm.start", "app-1", "0123456789ab")
    _refused(admin.delete(f"{API}/vms/app-1"), "vm.delete", "app-1", "0123456789ab")
    _refused(
        admin.delete(f"{API}/storage/loc/disks/data.qcow2"),
        "disk.delete",
        "loc/data.qcow2",
        "0123456789ab",
    )
    assert _state(admin) == "shutoff"
    live.engine.store.table("disk_moves").truncate()
    _stored(live, "definition_updated")  # only the source's removal is left
    started = admin.post(f"{API}/vms/app-1/start")
    assert started.status_code == 200, started.text


def test_which_stages_hold_the_vm() -> None:
    base = DiskMove(
        "m", "v", "u", "h", "vdb", False, Endpoint("a", "x"), Endpoint("b", "x"), 1, helper=True
    )
    held = {s: replace(base, stage=s).holds_vm for s in (*base.stages, "cleaning", "failed")}
    assert held == {
        "new": True,
        "target_created": True,
        "copying": True,
        "ready": True,
        "definition_updated": False,
        "source_deleted": False,
        "cleaning": True,
        "failed": False,
    }
    live = replace(base, live=True, helper=False, stage="pivoted")
    assert live.holds_vm  # the VM runs on the target; its definition still names the source


def test_an_ha_restart_waits_for_a_shut_off_vms_copy_not_for_a_live_move() -> None:
    cold = DiskMove(
        "m1", "v", "u", "h", "vdb", False, Endpoint("a", "x"), Endpoint("b", "x"), 1,
        stage="copying", helper=True,
    )  # fmt: skip
    live = replace(cold, live=True, helper=False)
    no_disks = cast(DiskService, None)  # VM actions never look a disk up
    params = {"uuid": "u"}
    restart = refusal(lambda: [cold], no_disks, "vm.ha_restart", "vm/v@h", params)
    assert restart is not None and restart.kind == "conflict"
    assert restart.message.startswith("vm.ha_restart v refused: disk move m1 of v's vdb")
    assert refusal(lambda: [live], no_disks, "vm.ha_restart", "vm/v@h", params) is None
    assert refusal(lambda: [live], no_disks, "vm.migrate", "vm/v@h", params) is not None
    assert refusal(lambda: [cold], no_disks, "vm.ha", "vm/v@h", params) is None  # flags only
