"""Disks through the API on test-driver hosts: create, refuse, warn, list, in use, delete.

The test driver keeps volumes but not real files; real allocation, grow and hot-plug are checked
on the lab (tests/lab/test_storage_lab.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import API, LiveEngine
from tests.storage.helpers import all_read, storage_spec, wait_storage, with_domains

GIB = 1 << 30
DATA_VOLUME = (
    "<volume><name>data.qcow2</name><capacity>1073741824</capacity><allocation>0</allocation>"
    "<target><format type='qcow2'/></target></volume>"
)


def _prepare(root: Path) -> None:
    """h1 already has the local domain's pool, holding data.qcow2, which app-1 uses as vdb."""
    node = next(root.rglob("h1.xml"))
    text = node.read_text()
    pool = (
        "<pool type='dir'><name>ovtui-loc</name><target><path>/var/lib/vm</path></target>"
        f"{DATA_VOLUME}</pool>"
    )
    vdb = (
        '<disk type="volume" device="disk"><source pool="ovtui-loc" volume="data.qcow2"/>'
        '<target dev="vdb" bus="virtio"/></disk>'
    )
    text = text.replace("</devices>", vdb + "</devices>", 1).replace("</node>", pool + "</node>")
    node.write_text(text)


@pytest.fixture
def live(start_engine: Callable[..., LiveEngine]) -> Iterator[LiveEngine]:
    config = with_domains(
        storage_spec(),
        [
            # local, not shared: test-driver hosts do not share their volumes as real ones would
            {"name": "scratch", "type": "local", "path": "/srv/vm", "hosts": ["h2"]},
            {"name": "loc", "type": "local", "path": "/var/lib/vm", "hosts": ["h1"]},
        ],
        _prepare,
    )
    live = start_engine(config=config)
    wait_storage(live.as_role("SuperUser"), all_read)
    yield live


def _audit(live: LiveEngine, action: str) -> list[tuple[str, str]]:
    rows = live.engine.audit_log.read(since_seq=0)
    return [(r["result"], r.get("detail", "")) for r in rows if r["action"] == action]


def test_create_list_and_delete_a_thin_disk(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    resp = admin.post(f"{API}/storage/scratch/disks", json={"name": "web-data", "size_bytes": GIB})
    assert resp.status_code == 201, resp.text
    made = resp.json()
    assert made["warnings"] == []
    disk = made["disk"]
    assert (disk["name"], disk["volume"], disk["format"], disk["allocation_policy"]) == (
        "web-data",
        "web-data.qcow2",
        "qcow2",
        "thin",
    )
    assert disk["capacity_bytes"] == GIB and disk["managed"] and disk["vms"] == []
    listed = admin.get(f"{API}/disks", params={"storage": "scratch"}).json()
    assert [d["name"] for d in listed] == ["web-data"]
    (rec,) = live.engine.store.table("disks").all()
    assert (rec["name"], rec["domain"], rec["created_by"]) == ("web-data", "scratch", "admin")
    assert _audit(live, "disk.create") == [("ok", "created web-data on scratch")]

    again = admin.post(f"{API}/storage/scratch/disks", json={"name": "web-data", "size_bytes": 1})
    assert again.status_code == 409
    assert (
        again.json()["error"]["message"] == "storage domain scratch already has a disk 'web-data'"
    )

    gone = admin.delete(f"{API}/storage/scratch/disks/web-data")
    assert gone.status_code == 200, gone.text
    assert admin.get(f"{API}/disks", params={"storage": "scratch"}).json() == []
    assert live.engine.store.table("disks").all() == []


def test_preallocated_larger_than_free_space_is_refused_and_thin_is_warned(
    live: LiveEngine,
) -> None:
    admin = live.as_role("SuperUser")
    big = {"name": "big", "size_bytes": 150 * GIB, "format": "raw", "allocation": "preallocated"}
    refused = admin.post(f"{API}/storage/scratch/disks", json=big)
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == (
        "a preallocated 150.0 GiB disk does not fit in storage domain scratch: 100.0 GiB free; "
        "make it smaller or thin"
    )
    assert admin.get(f"{API}/disks", params={"storage": "scratch"}).json() == []
    assert [r for r, _ in _audit(live, "disk.create")] == ["failed"]

    thin = admin.post(
        f"{API}/storage/scratch/disks", json={**big, "allocation": "thin", "name": "thin"}
    )
    assert thin.status_code == 201, thin.text
    (warning,) = thin.json()["warnings"]
    assert warning == (
        "thin disk of 150.0 GiB on scratch with 100.0 GiB free: disks there could grow to 150% "
        "of its 100.0 GiB (over-commit)"
    )


def test_a_disk_in_use_cannot_be_deleted_and_shows_on_its_vm(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    (data,) = admin.get(f"{API}/disks", params={"storage": "loc"}).json()
    assert data["vms"] == [{"vm": "app-1", "uuid": data["vms"][0]["uuid"], "target": "vdb"}]
    assert not data["managed"] and data["format"] == "qcow2"
    refused = admin.delete(f"{API}/storage/loc/disks/data.qcow2")
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == (
        "data.qcow2 is in use by app-1 (vdb): detach it first"
    )
    assert [d["volume"] for d in admin.get(f"{API}/disks").json()] == ["data.qcow2"]
    disks = {d["target"]: d for d in admin.get(f"{API}/vms/app-1/disks").json()}
    assert (disks["vdb"]["domain"], disks["vdb"]["format"]) == ("loc", "qcow2")
    assert disks["vdb"]["capacity_bytes"] == GIB
    assert disks["vda"]["domain"] is None  # a file outside every storage domain
    # what the scheduler's storage filter reads: the VM's domains, each host's active ones
    live.settle()
    app = next(v for v in live.engine.snapshot().vms if v.name == "app-1")
    assert app.storage_domains == ("loc",)
    hosts = {h["name"]: h for h in admin.get(f"{API}/hosts").json()}
    assert (hosts["h1"]["storage_domains"], hosts["h2"]["storage_domains"]) == (
        ["loc"],
        ["scratch"],
    )


def test_iscsi_disks_are_made_on_the_target_not_by_ovtui(
    start_engine: Callable[..., LiveEngine],
) -> None:
    san = {
        "name": "san",
        "type": "iscsi",
        "portal": "127.0.0.1:13260",
        "target": "iqn.2026-12.lab.ovtui:disks",
        "initiator": "iqn.2026-12.lab.ovtui:engine",
    }
    live = start_engine(config=with_domains(storage_spec(), [san]))
    admin = live.as_role("SuperUser")
    wait_storage(admin, all_read)
    resp = admin.post(f"{API}/storage/san/disks", json={"name": "x", "size_bytes": GIB})
    assert resp.status_code == 400
    assert "its disks are the target's LUNs" in resp.json()["error"]["message"]


def test_disk_changes_need_disk_manage(live: LiveEngine) -> None:
    resp = live.as_role("Operator").post(
        f"{API}/storage/scratch/disks", json={"name": "x", "size_bytes": GIB}
    )
    assert resp.status_code == 403
    assert resp.json()["error"]["message"].startswith(
        "operator may not disk.manage on storage scratch"
    )
    ok = live.as_role("PowerUser").post(
        f"{API}/storage/scratch/disks", json={"name": "x", "size_bytes": GIB}
    )
    assert ok.status_code == 201, ok.text
