"""Live disk moves on a real lab: no byte lost while the guest writes, `qemu-img compare` after
the pivot, and each failure (size mismatch, target full, tgtd killed mid-copy) leaves the VM
running on its source with the half-written target gone.

Two lab hosts, one TCG guest (vm1 on h1), the lab's storage (shared directory, loop device
`block` on h1, tgtd `san`). The engine runs on the lab's config. Tests run in file order; the
tgtd test comes last, since it kills the target.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import libvirt
import pytest

from auth.local_users import LocalUser, write_local_users
from ovtui.config import Config, load_config
from ovtui.lab import Lab, guest_disk
from ovtui.lab.storage import LUNS, kill_target
from ovtui.storage.move_xml import find_disk
from tests.conftest import API, ROLE_USERS, LiveEngine, _password_hash
from tests.lab.conftest import lab_up

pytestmark = pytest.mark.slow
T = TypeVar("T")
MIB = 1 << 20
BLOCKS = 400  # 4 KiB pattern blocks the guest writes during the first move


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    yield from lab_up(hosts=2, guests=1)


def _config(lab: Lab) -> Config:
    config = load_config(lab.config_path)
    users = [LocalUser(u, _password_hash(), frozenset({r})) for r, u in ROLE_USERS.items()]
    write_local_users(config.auth.local_users_file, users)
    return config.model_copy(
        update={
            # bounds the wait for a copy that stalls (tgtd killed): the move then fails
            "engine": config.engine.model_copy(update={"migration_timeout_seconds": 40.0}),
            "exporter": config.exporter.model_copy(update={"listen": None}),
        }
    )


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


def until(check: Callable[[], T], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() >= deadline:
            assert found, f"{what} not seen within {timeout:.0f} s (last: {found!r})"
            return found
        time.sleep(0.2)


def in_host(lab: Lab, host: str, *argv: str) -> str:
    """Runs a command in the host's mount namespace (where its fs pool is mounted)."""
    pid = lab.daemon_pid(host)
    assert pid is not None
    done = subprocess.run(["nsenter", "-t", str(pid), "-m", *argv], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _disk(admin: httpx.Client, name: str, size: int, **extra: Any) -> str:
    """Creates a raw disk on `shared` and hot-plugs it into vm1; returns its device."""
    body = {"name": name, "size_bytes": size, "format": "raw", **extra}
    made = admin.post(f"{API}/storage/shared/disks", json=body)
    assert made.status_code == 201, made.text
    attached = admin.post(f"{API}/vms/vm1/disks", json={"storage": "shared", "disk": name})
    assert attached.status_code == 200, attached.text
    target: str = attached.json()["target"]
    return target


def _live_source(lab: Lab, target: str) -> str:
    conn = lab.connect("h1")
    try:
        xml = conn.lookupByName("vm1").XMLDesc(0)
    finally:
        conn.close()
    disk = find_disk(xml, target)
    assert disk is not None, f"vm1 has no {target}"
    source = disk.find("source")  # what the VM reads and writes (a <mirror> is not it)
    assert source is not None
    if source.get("pool"):
        return f"{source.get('pool')}/{source.get('volume')}"
    return source.get("file") or source.get("name") or ""


def _guest(lab: Lab) -> Any:
    conn = lab.connect("h1")
    return conn, conn.lookupByName("vm1")


def test_a_live_move_while_the_guest_writes_loses_no_byte(admin: httpx.Client, lab: Lab) -> None:
    assert _disk(admin, "pat", 64 * MIB) == "vda"  # the lab guests have no disk of their own
    conn, dom = _guest(lab)
    try:
        offset = guest_disk.start_writing(dom, "vda", BLOCKS)
        resp = admin.post(f"{API}/vms/vm1/disks/vda/move", json={"storage": "block"})
        assert resp.status_code == 200, resp.text
        move = resp.json()
        assert [s for s, _ in move["history"]] == [
            "target_created",
            "copying",
            "ready",
            "pivoted",
            "definition_updated",
            "source_deleted",
        ]
        assert move["bytes_done"] == move["bytes_total"] == 64 * MIB and move["live"]
        assert guest_disk.wait_written(dom, "vda", offset) == BLOCKS
        assert guest_disk.check(dom, "vda", BLOCKS) == (BLOCKS, 0)
        guest_sum = guest_disk.checksum(dom, "vda")
    finally:
        conn.close()
    target = move["dest"]["path"]
    assert target.startswith(str(lab.storage().block_mount))
    # what the guest reads is what the target file holds, byte for byte (raw: file = device)
    assert in_host(lab, "h1", "md5sum", target).split()[0] == guest_sum
    assert not Path(move["source"]["path"]).exists()  # deleted, last
    assert _live_source(lab, "vda") == target
    (disk,) = [d for d in admin.get(f"{API}/disks").json() if d["name"] == "pat"]
    assert (disk["domain"], disk["vms"][0]["target"]) == ("block", "vda")
    moves = admin.get(f"{API}/disk-moves").json()
    assert moves[-1]["id"] == move["id"] and moves[-1]["stage"] == "source_deleted"


def test_qemu_img_compare_finds_source_and_target_identical_after_the_pivot(
    admin: httpx.Client, lab: Lab, live: LiveEngine
) -> None:
    driver = live.engine.moves.driver
    original = driver.delete_source
    compared: list[str] = []

    async def compare_then_delete(m: Any) -> None:
        # between the pivot and the source's deletion, as the stage machine orders them
        out = in_host(
            lab,
            "h1",
            "qemu-img",
            "compare",
            "-U",
            "-f",
            "raw",
            "-F",
            "raw",
            m.source.path,
            m.dest.path,
        )
        compared.append(out.strip())
        await original(m)

    driver.delete_source = compare_then_delete  # type: ignore[method-assign]
    try:
        resp = admin.post(f"{API}/vms/vm1/disks/vda/move", json={"storage": "shared"})
    finally:
        driver.delete_source = original  # type: ignore[method-assign]
    assert resp.status_code == 200, resp.text
    assert compared == ["Images are identical."]
    conn, dom = _guest(lab)
    try:
        assert guest_disk.check(dom, "vda", BLOCKS) == (BLOCKS, 0)
    finally:
        conn.close()


def test_a_size_mismatch_fails_by_event_and_leaves_the_vm_on_its_source(
    admin: httpx.Client, lab: Lab
) -> None:
    # blockCopy accepts it; the job then fails, which only its BLOCK_JOB_2 event says
    dev = _disk(admin, "small", 64 * MIB)
    before = _live_source(lab, dev)
    resp = admin.post(
        f"{API}/vms/vm1/disks/{dev}/move", json={"storage": "san", "volume": "unit:0:0:1"}
    )
    assert resp.status_code == 502, resp.text
    assert "block job failed" in resp.json()["error"]["message"]
    assert _live_source(lab, dev) == before
    moves = admin.get(f"{API}/disk-moves").json()
    assert moves[-1]["stage"] == "failed" and not moves[-1]["target_created"]
    vm = admin.get(f"{API}/vms/vm1").json()
    assert vm["state"] == "running"


def test_a_target_domain_too_full_is_refused_and_leaves_nothing(
    admin: httpx.Client, lab: Lab
) -> None:
    dev = _disk(admin, "big", 600 * MIB, allocation="preallocated")
    before = {d["volume"] for d in admin.get(f"{API}/disks", params={"storage": "block"}).json()}
    resp = admin.post(f"{API}/vms/vm1/disks/{dev}/move", json={"storage": "block"})
    assert resp.status_code == 409, resp.text
    assert "storage domain block is too full" in resp.json()["error"]["message"]
    after = {d["volume"] for d in admin.get(f"{API}/disks", params={"storage": "block"}).json()}
    assert after == before
    assert _live_source(lab, dev) == "ovtui-shared/big.img"


def test_an_engine_killed_mid_copy_resumes_on_restart(admin: httpx.Client, lab: Lab) -> None:
    """A second engine (its own store and socket) starts a slow copy and is stopped mid-way;
    the block job runs on in libvirtd, and the engine started again on that store finishes it."""
    dev = _disk(admin, "resume", 64 * MIB)
    base = _config(lab)
    config = base.model_copy(
        update={
            "engine": base.engine.model_copy(update={"store_dir": lab.root / "engine-restart"}),
            "api": base.api.model_copy(update={"socket": lab.root / "run" / "restart.sock"}),
        }
    )
    first = LiveEngine(config, wait_hosts=False)
    try:
        first.run(first.engine.fleet.wait_connected(30), timeout=40)
        until(
            lambda: all(first.engine.storage.reading(d, "h1").usable for d in ("shared", "block")),
            60,
            "pools read",
        )
        first.settle()
        move = first.engine.moves.plan(
            first.engine.snapshot().vms_named("vm1")[0],
            dev,
            "block",
            None,
            "test",
            bandwidth=8 * MIB,
        )
        running = asyncio.run_coroutine_threadsafe(first.engine.moves.run(move), first.loop)
        until(lambda: (first.engine.moves.get(move.id) or move).bytes_done > 0, 60, "copying")
        assert first.engine.moves.get(move.id).stage == "copying"  # type: ignore[union-attr]
    finally:
        first.stop()  # the engine goes; the copy job stays with libvirtd
    assert running.cancelled() or running.done()
    second = LiveEngine(config, wait_hosts=False)
    try:
        done = until(
            lambda: (m := second.engine.moves.get(move.id)) and m.finished and m,
            120,
            "the move resumed and finished",
        )
        assert done.stage == "source_deleted", done
        assert "ready" in [s for s, _ in done.history]
    finally:
        second.stop()
    assert _live_source(lab, dev) == done.dest.path


def test_a_shut_off_vms_disk_moves_by_copying_the_volume(admin: httpx.Client, lab: Lab) -> None:
    assert admin.post(f"{API}/vms/vm1/poweroff").status_code == 200
    resp = admin.post(f"{API}/vms/vm1/disks/vda/move", json={"storage": "block"})
    assert resp.status_code == 200, resp.text
    move = resp.json()
    assert not move["live"]
    assert [s for s, _ in move["history"]] == [
        "copying",
        "ready",
        "definition_updated",
        "source_deleted",
    ]
    conn = lab.connect("h1")
    try:
        dom = conn.lookupByName("vm1")
        disk = find_disk(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), "vda")
        assert disk is not None and disk.find("source").get("file") == move["dest"]["path"]  # type: ignore[union-attr]
        dom.create()  # and it boots from its moved disk
    finally:
        conn.close()
    assert not Path(move["source"]["path"]).exists()
    # the next test hot-plugs into the running VM: the engine must know it runs again
    until(lambda: admin.get(f"{API}/vms/vm1").json()["state"] == "running", 30, "vm1 running")


def test_tgtd_killed_mid_copy_leaves_the_vm_on_its_source(
    admin: httpx.Client, lab: Lab, live: LiveEngine
) -> None:
    size = LUNS[0]  # what the LUN holds (QEMU's view): the copy can start
    dev = _disk(admin, "lunsized", size)
    before = _live_source(lab, dev)
    result: list[httpx.Response] = []
    body = {"storage": "san", "volume": "unit:0:0:1", "bandwidth_mib_s": 8}
    # its own client: the move outlasts the shared client's 30 s timeout (it waits for the
    # engine's migration_timeout_seconds, 40 s here, before it gives the stalled copy up)
    slow = httpx.Client(
        transport=httpx.HTTPTransport(uds=str(live.socket)),
        base_url="http://ovtui",
        headers=admin.headers,
        timeout=180,
    )
    mover = threading.Thread(
        target=lambda: result.append(slow.post(f"{API}/vms/vm1/disks/{dev}/move", json=body))
    )
    mover.start()

    def copying() -> dict[str, Any]:
        moves = admin.get(f"{API}/disk-moves").json()
        last = moves[-1] if moves else {}
        if result:  # finished already: say how
            return {"finished": result[0].text, **last}
        return last if last.get("stage") == "copying" and last.get("bytes_done") else {}

    seen = until(copying, 60, "the copy under way")
    assert "finished" not in seen, seen
    kill_target(lab.storage())
    mover.join(180)
    slow.close()
    assert result and result[0].status_code in (502, 504), result[0].text if result else None
    assert _live_source(lab, dev) == before
    assert admin.get(f"{API}/vms/vm1").json()["state"] == "running"
    moves = admin.get(f"{API}/disk-moves").json()
    assert moves[-1]["stage"] == "failed"
    conn = lab.connect("h1")
    try:
        assert conn.lookupByName("vm1").state()[0] == libvirt.VIR_DOMAIN_RUNNING
    finally:
        conn.close()
