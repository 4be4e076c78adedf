"""Provisioning on a real lab: a template made from a lab guest, VMs from it with a cloud-init
seed whose hostname the guest prints on its serial console, thin overlays whose backing file is
the template's volume, internal snapshots of a running and a shut-off VM on qcow2.

Two lab hosts, one TCG guest (vm1 on h1); the engine runs against the lab's config.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from auth.local_users import LocalUser, write_local_users
from ovtui.config import Config, load_config
from ovtui.lab import Lab, guestinit, guests
from tests.conftest import API, ROLE_USERS, LiveEngine, _password_hash
from tests.lab.conftest import lab_up

pytestmark = pytest.mark.slow
T = TypeVar("T")
MIB = 1 << 20
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly0123456789abcdefABCDEF ops@lab"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    yield from lab_up(hosts=2, guests=1)


def _config(lab: Lab) -> Config:
    config = load_config(lab.config_path)
    users = [LocalUser(u, _password_hash(), frozenset({r})) for r, u in ROLE_USERS.items()]
    write_local_users(config.auth.local_users_file, users)
    imports = lab.root / "imports"
    imports.mkdir(exist_ok=True)
    return config.model_copy(
        update={
            "exporter": config.exporter.model_copy(update={"listen": None}),
            "provision": config.provision.model_copy(update={"import_dir": imports}),
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


def _serial_log(lab: Lab, host: str, vm: str) -> Path:
    conn = lab.connect(host)
    try:
        return guests.serial_log_of(conn.lookupByName(vm))
    finally:
        conn.close()


@pytest.fixture(scope="module")
def template(admin: httpx.Client, live: LiveEngine) -> str:
    """'lab': vm1's definition (kernel, initrd, serial log), no disks."""
    until(
        lambda: all(d["state"] == "active" for d in admin.get(f"{API}/storage").json()),
        60,
        "storage domains active",
    )
    assert admin.post(f"{API}/vms/vm1/poweroff").status_code == 200
    resp = admin.post(f"{API}/vms/vm1/template", json={"name": "lab"})
    assert resp.status_code == 201, resp.text
    return "lab"


def test_the_guest_prints_the_hostname_its_seed_gave(
    admin: httpx.Client, lab: Lab, template: str
) -> None:
    body = {
        "name": "ci-1",
        "template": template,
        "memory_mib": 128,
        "disks": [{"storage": "shared", "size_bytes": 64 * MIB}],
        "cloud_init": {"hostname": "web-7", "users": [{"name": "ops", "ssh_keys": [KEY]}]},
        "start": True,
    }
    resp = admin.post(f"{API}/clusters/{_cluster(admin)}/vms", json=body)
    assert resp.status_code == 201, resp.text
    made = resp.json()
    assert [d["volume"] for d in made["disks"]] == ["ci-1-disk1.qcow2", "ci-1-seed.iso"]
    log = _serial_log(lab, made["host"], "ci-1")
    assert log.name == "ci-1.log"  # not the template's (vm1's) log
    text = guests.wait_log(log, lambda s: guestinit.cloud_init(s) is not None, timeout=120)
    assert guestinit.cloud_init(text) == ("web-7", 1)
    # and the seed is on the VM as a read-only virtio disk
    disks = admin.get(f"{API}/vms/ci-1/disks").json()
    assert [(d["target"], d["source"]) for d in disks] == [
        ("vda", "ovtui-shared/ci-1-disk1.qcow2"),
        ("vdb", "ovtui-shared/ci-1-seed.iso"),
    ]


def test_snapshots_of_a_running_and_a_shut_off_vm(admin: httpx.Client, lab: Lab) -> None:
    resp = admin.post(f"{API}/vms/ci-1/snapshots", json={"name": "hot", "memory": True})
    assert resp.status_code == 201, resp.text
    assert resp.json()["result"] == "snapshot hot of ci-1 taken (disks and memory)"
    assert admin.post(f"{API}/vms/ci-1/poweroff").status_code == 200
    resp = admin.post(f"{API}/vms/ci-1/snapshots", json={"name": "cold"})
    assert resp.status_code == 201, resp.text
    snaps = admin.get(f"{API}/vms/ci-1/snapshots").json()
    assert [(s["name"], s["vm_state"], s["memory"]) for s in snaps] == [
        ("hot", "running", True),
        ("cold", "shutoff", False),
    ]
    path = next(
        d["path"] for d in admin.get(f"{API}/disks").json() if d["volume"] == "ci-1-disk1.qcow2"
    )
    info = json.loads(
        subprocess.run(
            ["qemu-img", "info", "-U", "--output=json", path], capture_output=True, text=True
        ).stdout
    )
    assert sorted(s["name"] for s in info.get("snapshots", [])) == ["cold", "hot"]
    # reverting to the snapshot with memory resumes the guest where it was
    resp = admin.post(f"{API}/vms/ci-1/snapshots/hot/revert")
    assert resp.status_code == 200, resp.text
    vm = until(
        lambda: next((v for v in admin.get(f"{API}/vms").json() if v["name"] == "ci-1"), None),
        10,
        "ci-1 listed",
    )
    assert vm["state"] == "running"
    for name in ("hot", "cold"):
        assert admin.delete(f"{API}/vms/ci-1/snapshots/{name}").status_code == 200
    assert admin.get(f"{API}/vms/ci-1/snapshots").json() == []
    assert admin.post(f"{API}/vms/ci-1/poweroff").status_code == 200


def test_a_thin_vm_is_an_overlay_on_the_template_volume(admin: httpx.Client, lab: Lab) -> None:
    resp = admin.post(f"{API}/vms/ci-1/template", json={"name": "ci"})
    assert resp.status_code == 201, resp.text
    tpl = resp.json()["template"]
    assert [d["volume"] for d in tpl["disks"]] == ["ci-tpl-disk1.qcow2"]  # the seed is not kept
    body = {"name": "thin-1", "template": "ci", "cloud_init": {"hostname": "thin-1"}}
    resp = admin.post(f"{API}/clusters/{_cluster(admin)}/vms", json=body)
    assert resp.status_code == 201, resp.text
    rows = {d["volume"]: d for d in admin.get(f"{API}/disks").json()}
    info = json.loads(
        subprocess.run(
            ["qemu-img", "info", "--output=json", rows["thin-1-disk1.qcow2"]["path"]],
            capture_output=True,
            text=True,
        ).stdout
    )
    assert info["backing-filename"] == rows["ci-tpl-disk1.qcow2"]["path"]
    refused = admin.delete(f"{API}/templates/ci")
    assert refused.status_code == 409 and "thin-1" in refused.json()["error"]["message"]
    for vm in ("thin-1", "ci-1"):
        assert admin.delete(f"{API}/vms/{vm}", params={"disks": "true"}).status_code == 200
    assert admin.delete(f"{API}/templates/ci").status_code == 200
    left = [d["volume"] for d in admin.get(f"{API}/disks", params={"storage": "shared"}).json()]
    assert not [v for v in left if v.startswith(("ci", "thin"))], left


def _cluster(admin: httpx.Client) -> str:
    return str(admin.get(f"{API}/clusters").json()[0]["name"])


def test_import_an_ova_with_a_vmdk_disk(admin: httpx.Client, lab: Lab, tmp_path: Path) -> None:
    from tests.provision.test_import import OVF, _image, _ova

    vmdk = _image(tmp_path / "d.vmdk", "vmdk", "24M").read_bytes()
    _ova(lab.root / "imports" / "app.ova", OVF.format(href="disk1.vmdk"), {"disk1.vmdk": vmdk})
    body = {"source": "app.ova", "storage": "shared"}
    resp = admin.post(f"{API}/clusters/{_cluster(admin)}/vms/import", json=body)
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert out["result"].startswith("imported app.ova as appliance-1 on ")
    vm = next(v for v in admin.get(f"{API}/vms").json() if v["name"] == "appliance-1")
    assert (vm["vcpus"], vm["memory_mib"]) == (2, 768)
    rows = {d["volume"]: d for d in admin.get(f"{API}/disks").json()}
    disk = rows["appliance-1-disk1.qcow2"]
    info = json.loads(
        subprocess.run(
            ["qemu-img", "info", "--output=json", disk["path"]], capture_output=True, text=True
        ).stdout
    )
    assert (info["format"], info["virtual-size"]) == ("qcow2", 24 * MIB)
    assert disk["capacity_bytes"] == 24 * MIB
    assert admin.delete(f"{API}/vms/appliance-1", params={"disks": "true"}).status_code == 200
