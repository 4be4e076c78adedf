"""Snapshots through the API on test-driver hosts (the lab takes real qcow2 internal ones:
tests/lab/test_provision_lab.py)."""

from __future__ import annotations

from tests.conftest import API, LiveEngine
from tests.provision.test_templates_api import live  # noqa: F401 - the fixture

GIB = 1 << 30


def test_take_list_revert_delete(live: LiveEngine) -> None:  # noqa: F811
    admin = live.as_role("SuperUser")
    body = {"name": "s", "disks": [{"storage": "shared", "size_bytes": GIB}], "host": "h2"}
    assert admin.post(f"{API}/clusters/c1/vms", json=body).status_code == 201
    live.settle()
    resp = admin.post(f"{API}/vms/s/snapshots", json={"name": "clean", "memory": True})
    assert resp.status_code == 400 and "no memory to save" in resp.json()["error"]["message"]
    resp = admin.post(f"{API}/vms/s/snapshots", json={"name": "clean", "description": "fresh"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["result"] == "snapshot clean of s taken (disks)"
    assert admin.post(f"{API}/vms/s/snapshots", json={"name": "clean"}).status_code == 409
    assert admin.post(f"{API}/vms/s/start").status_code == 200
    resp = admin.post(f"{API}/vms/s/snapshots", json={"name": "hot", "memory": True})
    assert resp.status_code == 201, resp.text
    snaps = admin.get(f"{API}/vms/s/snapshots").json()
    assert [(x["name"], x["vm_state"], x["memory"], x["current"]) for x in snaps] == [
        ("clean", "shutoff", False, False),
        ("hot", "running", True, True),
    ]
    assert snaps[1]["parent"] == "clean" and snaps[0]["description"] == "fresh"
    resp = admin.post(f"{API}/vms/s/snapshots/clean/revert")
    assert resp.status_code == 200, resp.text
    live.settle()
    assert live.engine.snapshot().vms_named("s")[0].state.value == "shutoff"
    assert admin.post(f"{API}/vms/s/snapshots/nope/revert").status_code == 400
    assert admin.delete(f"{API}/vms/s/snapshots/hot").status_code == 200
    names = [x["name"] for x in admin.get(f"{API}/vms/s/snapshots").json()]
    assert names == ["clean"]
    assert live.as_role("Operator").delete(f"{API}/vms/s/snapshots/clean").status_code == 403


def test_raw_disks_are_refused(live: LiveEngine) -> None:  # noqa: F811
    admin = live.as_role("SuperUser")
    body = {"name": "r", "disks": [{"storage": "shared", "size_bytes": GIB, "format": "raw"}]}
    assert admin.post(f"{API}/clusters/c1/vms", json=body).status_code == 201
    live.settle()
    resp = admin.post(f"{API}/vms/r/snapshots", json={"name": "x"})
    assert resp.status_code == 400
    assert "not qcow2: vda (ovtui-shared/r-disk1.img)" in resp.json()["error"]["message"]
