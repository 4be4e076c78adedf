"""ovtui.ovtui's provisioning modules (vm present/absent and edits, template, vm_snapshot,
disk) in a playbook against an engine with a storage domain; every change run twice to show it
is idempotent, and in check mode first to show check mode moves nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, LiveEngine
from tests.ovirt.ansible_run import run
from tests.ovirt.collection import build_and_install
from tests.provision.test_create_api import _spec
from tests.storage.helpers import all_read, wait_storage, with_domains

HERE = Path(__file__).parent
pytestmark = pytest.mark.slow  # 34 module runs


@pytest.fixture
def live() -> Iterator[LiveEngine]:
    # `loc` for the disk tasks: test-driver hosts do not share a shared_dir pool's volumes, so
    # a disk made on one host is not in another's reading of `shared` (a real shared dir is).
    local = {"name": "loc", "type": "local", "path": "/var/lib/loc", "hosts": ["h2"]}
    shared = {"name": "shared", "type": "shared_dir", "path": "/srv/s"}
    config = with_domains(_spec(), [shared, local])
    started = LiveEngine(config)
    wait_storage(started.as_role("SuperUser"), all_read)
    yield started
    started.stop()


def test_provisioning_playbook(live: LiveEngine, tmp_path: Path) -> None:
    collections = build_and_install(tmp_path / "collections")
    out = tmp_path / "results.json"
    auth = {"socket": str(live.socket), "username": "admin", "password": PASSWORD}
    done = run(
        "ansible-playbook", "-i", "localhost,", str(HERE / "provision_playbook.yml"),
        "-e", json.dumps({"auth": auth, "out": str(out)}),
        env={"ANSIBLE_COLLECTIONS_PATH": str(collections)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    r = json.loads(out.read_text())
    failing = ("tpl_busy", "no_cluster", "bad_size", "shrink")
    changed = {k: v.get("changed") for k, v in r.items() if k not in failing}
    assert changed == {
        "golden_check": True, "golden1": True, "golden2": False, "edit1": True, "edit2": False,
        "tpl_check": True, "tpl1": True, "tpl2": False, "w1_1": True, "w1_2": False,
        "clone1": True, "clone2": False, "snap_check": True, "snap1": True, "snap2": False,
        "restore1": True, "snap_gone1": True, "snap_gone2": False, "del_check": True,
        "del1": True, "del2": False, "w1_gone": True, "tpl_gone1": True, "tpl_gone2": False,
        "disk_check": True, "disk1": True, "disk2": False,
        "disk_gone_check": True,
        "disk_gone1": True, "disk_gone2": False,
    }  # fmt: skip
    assert r["disk_check"]["disk"] is None and r["disk_check"]["actions"] == ["create"]
    assert r["disk1"]["disk"]["capacity_bytes"] == 1 << 30
    assert "does not shrink" in r["shrink"]["msg"]
    assert r["disk_gone_check"]["disk"]["name"] == "data"  # check mode deleted nothing
    assert r["disk_gone1"]["disk"] is None
    assert r["golden_check"]["actions"] == ["create"]
    assert r["golden_check"]["diff"]["before"] == {"state": "absent"}
    g = r["golden1"]["vm"]
    assert (g["vcpus"], g["memory_mib"], g["host"], g["state"]) == (2, 768, "h2", "shutoff")
    assert r["edit1"]["actions"] == ["edit"] and r["edit1"]["vm"]["memory_mib"] == 1024
    assert r["edit1"]["diff"]["before"]["memory_mib"] == 768
    assert r["tpl_check"]["template"] is None  # check mode made nothing
    assert r["tpl1"]["template"]["source_vm"] == "golden"
    assert r["tpl1"]["template"]["description"] == "web tier"
    assert r["w1_1"]["actions"] == ["create"] and r["w1_1"]["vm"]["memory_mib"] == 1024
    assert r["clone1"]["actions"] == ["clone"] and r["clone1"]["vm"]["name"] == "w1-copy"
    assert r["snap_check"]["snapshot"] is None and r["snap1"]["snapshot"]["description"] == "fresh"
    assert r["snap_gone1"]["snapshots"] == []
    assert r["del_check"]["actions"] == ["delete"]
    assert r["tpl_busy"]["failed"] and "409" in r["tpl_busy"]["msg"]
    assert r["no_cluster"]["failed"] and "give cluster" in r["no_cluster"]["msg"]
    assert r["bad_size"]["msg"].startswith("disks[0].size: '1G' is not a size")
    snap = live.engine.snapshot()
    assert {v.name for v in snap.vms} == {"big", "golden"}
    assert [t["name"] for t in live.engine.provision.templates.all()] == ["Blank"]
    audit = [rec["action"] for rec in live.engine.audit_log.tail(300)]
    done_actions = (
        "vm.create",
        "vm.edit",
        "template.create",
        "vm.clone",
        "vm.snapshot",
        "vm.snapshot_revert",
        "vm.snapshot_delete",
        "vm.delete",
        "template.delete",
        "disk.create",
        "disk.delete",
    )
    for action in done_actions:
        assert audit.count(action) >= 1, action
