"""Storage on a real lab: a pool of every type realised by the engine, disks whose allocation is
measured on disk, hot-plug into a running guest, live grow, in-use refusal, iSCSI LUNs.

Two lab hosts, one TCG guest (vm1 on h1). The lab's own storage (ovtui.lab.storage): `shared`
(a directory every host namespace sees), `block` (a loop device libvirt formats and mounts on
h1), `san` (tgtd on loopback through iscsi-direct); this module adds `local-h2`, a directory
libvirt creates on h2.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import libvirt
import pytest

from auth.local_users import LocalUser, write_local_users
from ovtui.config import Config, load_config
from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.lab import Lab, procs
from ovtui.lab.storage import BLOCK_BYTES, LUNS
from tests.conftest import API, ROLE_USERS, LiveEngine, _password_hash
from tests.lab.conftest import lab_up

pytestmark = pytest.mark.slow
T = TypeVar("T")
MIB = 1 << 20
SIZE = 64 * MIB


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    yield from lab_up(hosts=2, guests=1)


def _config(lab: Lab) -> Config:
    config = load_config(lab.config_path)
    users = [LocalUser(u, _password_hash(), frozenset({r})) for r, u in ROLE_USERS.items()]
    write_local_users(config.auth.local_users_file, users)
    local = StorageDomainConfig(
        name="local-h2",
        datacenter=config.datacenters[0].name,
        type="local",
        path=lab.root / "storage" / "local-h2",
        hosts=["h2"],
    )
    return config.model_copy(
        update={
            "storage_domains": [*config.storage_domains, local],
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
    return live.as_user("admin")


def until(check: Callable[[], T], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() >= deadline:
            assert found, f"{what} not seen within {timeout:.0f} s (last: {found!r})"
            return found
        time.sleep(0.2)


def _domains(admin: httpx.Client) -> dict[str, Any]:
    return {d["name"]: d for d in admin.get(f"{API}/storage").json()}


def test_every_domain_is_active_on_its_hosts(admin: httpx.Client, lab: Lab) -> None:
    def all_active() -> dict[str, Any]:
        found = _domains(admin)
        return found if all(d["state"] == "active" for d in found.values()) else {}

    domains = until(all_active, 60, "every storage domain active")
    assert [h["host"] for h in domains["shared"]["hosts"]] == ["h1", "h2"]
    assert [h["host"] for h in domains["san"]["hosts"]] == ["h1", "h2"]
    assert [h["host"] for h in domains["local-h2"]["hosts"]] == ["h2"]
    block = domains["block"]
    # ext4 on the loop device: a little less than the device once the filesystem's blocks are out
    assert 0.9 * BLOCK_BYTES < block["capacity_bytes"] <= BLOCK_BYTES, block
    assert domains["shared"]["capacity_bytes"] > 0
    conn = lab.connect("h1")
    try:
        pool = conn.storagePoolLookupByName("ovtui-block")
        assert pool.isActive() and "<format type='ext4'/>" in pool.XMLDesc(0)
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("fmt", "allocation", "low", "high"),
    [
        ("qcow2", "thin", 0, 1 * MIB),  # a qcow2 header and empty tables
        ("raw", "thin", 0, 64 * 1024),  # sparse: nothing written
        ("raw", "preallocated", SIZE, SIZE + MIB),
        ("qcow2", "preallocated", SIZE, SIZE + 2 * MIB),  # falloc + metadata
    ],
)
def test_allocation_on_disk_is_what_was_asked(
    admin: httpx.Client, fmt: str, allocation: str, low: int, high: int
) -> None:
    name = f"{fmt}-{allocation}"
    body = {"name": name, "size_bytes": SIZE, "format": fmt, "allocation": allocation}
    resp = admin.post(f"{API}/storage/shared/disks", json=body)
    assert resp.status_code == 201, resp.text
    disk = resp.json()["disk"]
    on_disk = os.stat(disk["path"]).st_blocks * 512
    assert low <= on_disk <= high, f"{name}: {on_disk} bytes allocated"
    assert disk["capacity_bytes"] == SIZE
    assert low <= disk["allocation_bytes"] <= high  # libvirt's figure tells the same story
    assert admin.delete(f"{API}/storage/shared/disks/{name}").status_code == 200
    assert not Path(disk["path"]).exists()


def test_a_disk_on_the_block_domain_lives_in_its_mount(admin: httpx.Client) -> None:
    body = {"name": "b1", "size_bytes": 32 * MIB, "format": "raw", "allocation": "preallocated"}
    resp = admin.post(f"{API}/storage/block/disks", json=body)
    assert resp.status_code == 201, resp.text
    assert resp.json()["disk"]["allocation_bytes"] >= 32 * MIB
    free = _domains(admin)["block"]["available_bytes"]
    too_big = {**body, "name": "b2", "size_bytes": free + 16 * MIB}
    refused = admin.post(f"{API}/storage/block/disks", json=too_big)
    assert refused.status_code == 409 and "does not fit" in refused.json()["error"]["message"]
    assert admin.delete(f"{API}/storage/block/disks/b1").status_code == 200


def test_hot_plug_live_grow_in_use_refusal_and_detach(
    admin: httpx.Client, lab: Lab, live: LiveEngine
) -> None:
    made = admin.post(f"{API}/storage/shared/disks", json={"name": "hot", "size_bytes": SIZE})
    assert made.status_code == 201, made.text
    resp = admin.post(f"{API}/vms/vm1/disks", json={"storage": "shared", "disk": "hot"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["target"] == "vda"  # the lab guests have no disk of their own
    assert "hot-plugged into running vm1" in resp.json()["result"]
    conn = lab.connect("h1")
    try:
        dom = conn.lookupByName("vm1")
        assert "hot.qcow2" in dom.XMLDesc(0)  # live
        assert "hot.qcow2" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)  # and persistent
    finally:
        conn.close()
    disks = {d["target"]: d for d in admin.get(f"{API}/vms/vm1/disks").json()}
    assert (disks["vda"]["domain"], disks["vda"]["format"]) == ("shared", "qcow2")
    refused = admin.delete(f"{API}/storage/shared/disks/hot")
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == "hot is in use by vm1 (vda): detach it first"

    grown = admin.post(f"{API}/storage/shared/disks/hot/grow", json={"size_bytes": 2 * SIZE})
    assert grown.status_code == 200, grown.text
    assert grown.json()["capacity_bytes"] == 2 * SIZE

    gone = admin.delete(f"{API}/vms/vm1/disks/vda")
    assert gone.status_code == 200, gone.text

    def detached() -> bool:
        live.settle()
        return "vda" not in {d["target"] for d in admin.get(f"{API}/vms/vm1/disks").json()}

    until(detached, 60, "vda released by the guest")
    assert admin.delete(f"{API}/storage/shared/disks/hot").status_code == 200


def test_the_iscsi_domain_lists_the_targets_luns_on_every_host(admin: httpx.Client) -> None:
    def luns() -> list[dict[str, Any]]:
        found = admin.get(f"{API}/disks", params={"storage": "san"}).json()
        return found if len(found) == len(LUNS) else []

    found = until(luns, 30, "the target's LUNs")
    # a LUN is its backing file less the last 512-byte block (what tgtd reports); LUN 0 (the
    # target's controller, size 0) is not a disk and is not listed
    assert sorted(d["capacity_bytes"] for d in found) == sorted(n - 512 for n in LUNS)
    assert all(d["volume"].startswith("unit:0:0:") and not d["managed"] for d in found)
    san = _domains(admin)["san"]
    assert [h["state"] for h in san["hosts"]] == ["active", "active"]
    assert san["pool_type"] == "iscsi-direct"


def test_live_migration_with_a_disk_on_a_shared_domain_copies_no_disk(
    admin: httpx.Client, lab: Lab
) -> None:
    made = admin.post(
        f"{API}/storage/shared/disks",
        json={"name": "mig", "size_bytes": 512 * MIB, "format": "raw"},
    )
    assert made.status_code == 201, made.text
    path = made.json()["disk"]["path"]
    # 512 MiB of data: a migration that copied the disk would send at least that much
    subprocess.run(
        [
            "dd",
            "if=/dev/urandom",
            f"of={path}",
            "bs=4M",
            "count=128",
            "conv=notrunc",
            "status=none",
        ],
        check=True,
    )
    attached = admin.post(f"{API}/vms/vm1/disks", json={"storage": "shared", "disk": "mig"})
    assert attached.status_code == 200, attached.text
    try:
        for target in ("h2", "h1"):  # there and back: the lab stays as the module found it
            moved = admin.post(f"{API}/vms/vm1/migrate", json={"target": target})
            assert moved.status_code == 200, moved.text
            outcome = moved.json()
            assert outcome["mode"] == "live"
            assert outcome["transferred_mib"] < 256, outcome  # the guest's memory, no disk
            conn = lab.connect(target)
            try:
                assert "mig.img" in conn.lookupByName("vm1").XMLDesc(0)  # the same volume
            finally:
                conn.close()
    finally:
        dev = attached.json()["target"]
        admin.delete(f"{API}/vms/vm1/disks/{dev}")


def test_lab_down_stops_tgtd_and_detaches_the_loop_device() -> None:
    with contextlib.ExitStack() as stack:
        own = lab_up(hosts=1, guests=0)
        lab = next(own)
        stack.callback(lambda: next(own, None))
        st = lab.storage()
        assert st.tgtd is not None and procs.alive(st.tgtd)
        backing = Path(f"/sys/block/{Path(st.loop).name}/loop/backing_file")
        assert backing.read_text().strip() == str(st.root / "block.img")
        assert st.shared_dir.is_dir()
        lab.down()
        assert not procs.alive(st.tgtd)
        assert not backing.exists() or backing.read_text().strip() != str(st.root / "block.img")
        assert not st.root.exists()
