"""A shut-off VM's disk copied onto an iSCSI LUN (by a paused helper domain), and copies that
run out of space (a file domain filled while a live copy runs, or too full for a cold copy):
each fails cleanly, the VM on its original disk and no volume left behind on the target.

One lab host, one TCG guest (vm1), the lab's storage (shared directory, loop device `block`,
tgtd `san`). Tests run in file order: the first leaves vm1 running on a LUN.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import libvirt
import pytest
from textual.widgets import Input, Static

from ovtui.lab import Lab, guest_disk
from ovtui.lab.storage import LUNS
from ovtui.storage.move_xml import find_disk
from ovtui.tui.confirm import ConfirmScreen
from ovtui.tui.fields_form import FieldsForm
from ovtui.tui.keyed_table import KeyedTable
from ovtui.tui.vm_disks_view import VmDisksScreen
from tests.conftest import API, LiveEngine
from tests.lab.conftest import lab_up
from tests.lab.test_disk_move_lab import _config, _live_source, in_host, until
from tests.tui.conftest import wait_for
from tests.tui.policy_fleet import Session

pytestmark = pytest.mark.slow
MIB = 1 << 20
BLOCKS = 300  # 4 KiB pattern blocks the guest writes before its disk is copied
FILLER = "filler.bin"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    yield from lab_up(hosts=1, guests=1)


@pytest.fixture(scope="module")
def live(lab: Lab) -> Iterator[LiveEngine]:
    engine = LiveEngine(_config(lab), wait_hosts=False)
    try:
        engine.run(engine.engine.fleet.wait_connected(30), timeout=40)
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="module")
def admin(live: LiveEngine) -> httpx.Client:
    client = live.as_user("admin")
    until(
        lambda: all(d["state"] == "active" for d in client.get(f"{API}/storage").json()),
        60,
        "every storage domain active",
    )
    return client


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with path.open("rb") as f:
        while chunk := f.read(4 * MIB):
            h.update(chunk)
    return h.hexdigest()


def _raw_disk(admin: httpx.Client, name: str, size: int, data_mib: int = 0) -> Path:
    made = admin.post(
        f"{API}/storage/shared/disks", json={"name": name, "size_bytes": size, "format": "raw"}
    )
    assert made.status_code == 201, made.text
    path = Path(made.json()["disk"]["path"])
    if data_mib:  # real bytes, so that a copy needs real room (zeros would stay holes)
        with path.open("r+b") as f:
            for _ in range(data_mib):
                f.write(os.urandom(MIB))
    return path


def _attach(admin: httpx.Client, name: str) -> str:
    resp = admin.post(f"{API}/vms/vm1/disks", json={"storage": "shared", "disk": name})
    assert resp.status_code == 200, resp.text
    target: str = resp.json()["target"]
    return target


def _volumes(admin: httpx.Client, domain: str) -> set[str]:
    rows = admin.get(f"{API}/disks", params={"storage": domain}).json()
    return {d["volume"] for d in rows} - {FILLER}


def _free(lab: Lab) -> int:
    mount = str(lab.storage().block_mount)
    return int(in_host(lab, "h1", "df", "-B1", "--output=avail", mount).split()[-1])


def _fill(lab: Lab, leave: int) -> None:
    """Someone else's file on the block domain, leaving `leave` bytes free."""
    size = _free(lab) - leave
    assert size > 0
    in_host(lab, "h1", "fallocate", "-l", str(size), f"{lab.storage().block_mount}/{FILLER}")


def _unfill(lab: Lab) -> None:
    in_host(lab, "h1", "rm", "-f", f"{lab.storage().block_mount}/{FILLER}")


def _power(admin: httpx.Client, action: str, state: str) -> None:
    assert admin.post(f"{API}/vms/vm1/{action}").status_code == 200
    until(lambda: admin.get(f"{API}/vms/vm1").json()["state"] == state, 60, f"vm1 {state}")


def test_a_shut_off_vms_disk_is_copied_onto_an_iscsi_lun(admin: httpx.Client, lab: Lab) -> None:
    size = LUNS[1]  # unit:0:0:2; a raw copy onto a LUN needs the LUN's size exactly
    source = _raw_disk(admin, "tolun", size)
    assert _attach(admin, "tolun") == "vda"  # the lab guests have no disk of their own
    conn = lab.connect("h1")
    try:
        dom = conn.lookupByName("vm1")
        offset = guest_disk.start_writing(dom, "vda", BLOCKS)
        assert guest_disk.wait_written(dom, "vda", offset) == BLOCKS
    finally:
        conn.close()
    _power(admin, "poweroff", "shutoff")
    before = _md5(source)
    resp = admin.post(
        f"{API}/vms/vm1/disks/vda/move", json={"storage": "san", "volume": "unit:0:0:2"}
    )
    assert resp.status_code == 200, resp.text
    move = resp.json()
    assert not move["live"] and move["helper"]
    assert [s for s, _ in move["history"]] == [
        "target_created",
        "copying",
        "ready",
        "definition_updated",
        "source_deleted",
    ]
    assert not move["target_created"]  # a LUN is the target's: never deleted by ovtui
    assert _md5(lab.storage().lun_file(2)) == before  # byte for byte
    assert not source.exists()  # deleted, last
    conn = lab.connect("h1")
    try:
        names = [d.name() for d in conn.listAllDomains()]
        assert names == ["vm1"], names  # the helper is gone
        dom = conn.lookupByName("vm1")
        disk = find_disk(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), "vda")
        assert disk is not None and disk.get("type") == "network"
        assert disk.find("source").get("name") == f"{lab.storage().target}/2"  # type: ignore[union-attr]
        dom.create()  # it boots on the LUN, and the guest reads what it wrote
        assert guest_disk.checksum(dom, "vda") == before  # all of it, read through the LUN
    finally:
        conn.close()
    until(lambda: admin.get(f"{API}/vms/vm1").json()["state"] == "running", 60, "vm1 running")
    (disk_row,) = [d for d in admin.get(f"{API}/vms/vm1/disks").json() if d["target"] == "vda"]
    assert disk_row["domain"] == "san"


def test_a_live_copy_that_runs_out_of_space_fails_cleanly(
    admin: httpx.Client, lab: Lab, live: LiveEngine
) -> None:
    source = _raw_disk(admin, "roomy", 128 * MIB, data_mib=96)
    dev = _attach(admin, "roomy")
    before_src, before_vols = _live_source(lab, dev), _volumes(admin, "block")
    before_md5 = _md5(source)
    slow = httpx.Client(
        transport=httpx.HTTPTransport(uds=str(live.socket)),
        base_url="http://ovtui",
        headers=admin.headers,
        timeout=180,
    )
    try:
        result: list[httpx.Response] = []
        body = {"storage": "block", "bandwidth_mib_s": 8}  # ~12 s: time to fill the domain
        mover = threading.Thread(
            target=lambda: result.append(slow.post(f"{API}/vms/vm1/disks/{dev}/move", json=body))
        )
        mover.start()

        def copying() -> bool:
            moves = admin.get(f"{API}/disk-moves").json()
            last = moves[-1] if moves else {}
            return bool(result) or bool(last.get("stage") == "copying" and last.get("bytes_done"))

        until(copying, 60, "the copy under way")
        assert not result, result[0].text
        _fill(lab, 4 * MIB)  # what is left cannot take the rest of the disk
        mover.join(180)
    finally:
        slow.close()
    try:
        assert result and result[0].status_code == 409, result[0].text if result else None
        message = result[0].json()["error"]["message"]
        assert "storage domain block ran out of space" in message, message
        assert "stays on its source" in message
        assert _live_source(lab, dev) == before_src
        assert admin.get(f"{API}/vms/vm1").json()["state"] == "running"
        move = admin.get(f"{API}/disk-moves").json()[-1]
        assert move["stage"] == "failed" and move["target_created"]
        assert "could not" not in move["error"], move["error"]  # the cleanup did it all
        assert admin.post(f"{API}/storage/block/refresh").status_code == 200
        assert _volumes(admin, "block") == before_vols  # no half-written copy left
        assert _md5(source) == before_md5
    finally:
        _unfill(lab)


def test_a_cold_copy_that_cannot_fit_is_refused_before_it_starts(
    admin: httpx.Client, lab: Lab, live: LiveEngine
) -> None:
    dev = next(
        d["target"] for d in admin.get(f"{API}/vms/vm1/disks").json() if d["domain"] == "shared"
    )
    _power(admin, "poweroff", "shutoff")
    before_vols = _volumes(admin, "block")
    _fill(lab, 32 * MIB)  # just filled: the engine's last reading does not know yet
    try:
        resp = admin.post(f"{API}/vms/vm1/disks/{dev}/move", json={"storage": "block"})
        assert resp.status_code == 409, resp.text
        assert "storage domain block is too full" in resp.json()["error"]["message"]
        assert _volumes(admin, "block") == before_vols
        assert _live_source(lab, dev) == "ovtui-shared/roomy.img"
    finally:
        _unfill(lab)
    # filled by someone else just after the check: the copy itself runs out of space
    driver = live.engine.moves.driver
    original = driver._check_room  # type: ignore[attr-defined]

    async def check_then_fill(m: object) -> None:
        await original(m)
        _fill(lab, 32 * MIB)

    driver._check_room = check_then_fill  # type: ignore[attr-defined]
    try:
        resp = admin.post(f"{API}/vms/vm1/disks/{dev}/move", json={"storage": "block"})
        assert resp.status_code == 409, resp.text
        message = resp.json()["error"]["message"]
        assert "storage domain block ran out of space" in message, message
        assert _volumes(admin, "block") == before_vols  # the partial copy is gone
        assert _live_source(lab, dev) == "ovtui-shared/roomy.img"
        move = admin.get(f"{API}/disk-moves").json()[-1]
        assert move["stage"] == "failed" and "could not" not in move["error"], move["error"]
    finally:
        driver._check_room = original  # type: ignore[attr-defined]
        _unfill(lab)


def _running_with_roomy(admin: httpx.Client) -> tuple[str, str]:
    _power(admin, "start", "running")
    vm = next(v for v in admin.get(f"{API}/vms").json() if v["name"] == "vm1")
    disks = admin.get(f"{API}/vms/vm1/disks").json()
    return vm["uuid"], next(d["target"] for d in disks if d["volume"] == "roomy.img")


async def test_the_dashboard_extends_moves_and_deletes_a_disk(
    admin: httpx.Client, lab: Lab, live: LiveEngine
) -> None:
    """The VM disks screen on real hosts: what the test driver cannot do (resize, hot-plug)."""
    uuid, dev = _running_with_roomy(admin)
    session = Session(live)
    app = session.host("admin", partial(VmDisksScreen, vm="vm1", uuid=uuid, allowed=True))  # type: ignore[arg-type]
    async with app.run_test(size=(160, 40)) as pilot:
        screen = app.view
        assert isinstance(screen, VmDisksScreen)
        await wait_for(pilot, lambda: screen.loads, what="the VM's disks")
        table = screen.query_one("#vm-disks", KeyedTable)
        said = screen.query_one("#vm-disks-said", Static)

        async def answer(key: str, values: dict[str, str], done: str) -> str:
            table.move_cursor(row=table.get_row_index(dev))
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, FieldsForm), what="the form")
            for k, v in values.items():
                app.screen.query_one(f"#f-{k}", Input).value = v
            await pilot.click("#ok")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="ask")
            await pilot.press("y")
            await wait_for(
                pilot, lambda: done in str(said.render()) or "refused" in str(said.render()), 120
            )
            return str(said.render())

        text = await answer("e", {"size": "192M"}, "grown to")
        assert "roomy.img grown to 0.2 GiB" in text, text
        await wait_for(pilot, lambda: str(table.get_row(dev)[4]) == "192.0M", what="new size")
        text = await answer("m", {"storage": "block"}, "moved to")
        assert f"vm1's {dev} moved to block (live)" in text, text
        await wait_for(pilot, lambda: str(table.get_row(dev)[1]) == "block", what="on block")
        table.move_cursor(row=table.get_row_index(dev))
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="ask")
        assert "DELETE roomy.img from block" in str(app.screen.query_one("#question").render())
        await pilot.press("y")
        await wait_for(
            pilot, lambda: "deleted" in str(said.render()) or "refused" in str(said.render()), 120
        )
        assert "deleted roomy.img from block" in str(said.render()), str(said.render())
        await wait_for(pilot, lambda: dev not in table.keys, what="the row gone")
    assert "roomy.img" not in _volumes(admin, "block")
