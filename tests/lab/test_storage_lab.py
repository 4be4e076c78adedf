"""Storage on a real lab: pools of every directory and block type realised by the engine, disks
whose allocation is measured on disk, hot-plug into a running guest, live grow, in-use refusal.

Two lab hosts, one TCG guest (vm1 on h1). The storage this module makes itself, outside the lab
(the lab's own shared directory, loop device and tgtd are not built yet, see the README):
- shared: a directory on this machine's filesystem, which every host namespace sees at the same
  path (what a shared filesystem mount gives production hosts);
- local-h2: a directory libvirt creates on h2;
- block: a 256 MiB loop device that libvirt formats (ext4) and mounts in h1's namespace, detached
  by this module at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
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
from ovtui.lab import Lab
from tests.conftest import API, ROLE_USERS, LiveEngine, _password_hash
from tests.lab.conftest import lab_up

pytestmark = pytest.mark.slow
T = TypeVar("T")
MIB = 1 << 20
SIZE = 64 * MIB


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    yield from lab_up(hosts=2, guests=1)


@pytest.fixture(scope="module")
def places() -> Iterator[dict[str, Path]]:
    root = Path(tempfile.mkdtemp(prefix="ovtui-sd-", dir="/tmp"))
    (root / "shared").mkdir()
    image = root / "block.img"
    with image.open("wb") as f:
        f.truncate(256 * MIB)
    loop = subprocess.run(
        ["losetup", "--find", "--show", str(image)], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        yield {"root": root, "loop": Path(loop)}
    finally:
        subprocess.run(["losetup", "--detach", loop], check=False)
        shutil.rmtree(root, ignore_errors=True)


def _config(lab: Lab, places: dict[str, Path]) -> Config:
    config = load_config(lab.config_path)
    users = [LocalUser(u, _password_hash(), frozenset({r})) for r, u in ROLE_USERS.items()]
    write_local_users(config.auth.local_users_file, users)
    dc = config.datacenters[0].name
    root = places["root"]
    domains = [
        StorageDomainConfig(name="shared", datacenter=dc, type="shared_dir", path=root / "shared"),
        StorageDomainConfig(
            name="local-h2", datacenter=dc, type="local", path=root / "local-h2", hosts=["h2"]
        ),
        StorageDomainConfig(
            name="block",
            datacenter=dc,
            type="fs",
            path=root / "block-mnt",
            device=places["loop"],
            hosts=["h1"],
        ),
    ]
    return config.model_copy(
        update={
            "storage_domains": domains,
            "exporter": config.exporter.model_copy(update={"listen": None}),
        }
    )


@pytest.fixture(scope="module")
def live(lab: Lab, places: dict[str, Path]) -> Iterator[LiveEngine]:
    (places["root"] / "block-mnt").mkdir()
    engine = LiveEngine(_config(lab, places), wait_hosts=False)
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
    assert [h["host"] for h in domains["local-h2"]["hosts"]] == ["h2"]
    block = domains["block"]
    # ext4 on 256 MiB: a little less than the device once the filesystem's own blocks are out
    assert 200 * MIB < block["capacity_bytes"] <= 256 * MIB, block
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
    admin: httpx.Client, places: dict[str, Path], fmt: str, allocation: str, low: int, high: int
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
