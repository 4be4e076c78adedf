"""Templates, VMs from them (thin overlays and full copies), clones and edits, through the API
on test-driver hosts (the lab checks real files: tests/lab/test_provision_lab.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import httpx
import libvirt
import pytest

from tests.conftest import API, LiveEngine
from tests.provision.test_create_api import _spec
from tests.storage.helpers import all_read, wait_storage, with_domains

GIB = 1 << 30


@pytest.fixture
def live(start_engine: Callable[..., LiveEngine]) -> LiveEngine:
    config = with_domains(_spec(), [{"name": "shared", "type": "shared_dir", "path": "/srv/s"}])
    live = start_engine(config=config)
    wait_storage(live.as_role("SuperUser"), all_read)
    return live


def _volume_xml(live: LiveEngine, host: str, volume: str) -> ET.Element:
    """Through the engine's own connection: a test:/// file opened again shares no state."""

    def read(conn: libvirt.virConnect) -> str:
        pool = conn.storagePoolLookupByName("ovtui-shared")
        return str(pool.storageVolLookupByName(volume).XMLDesc(0))

    return ET.fromstring(live.run(live.engine.fleet.links[host].call(read, action="read")))


def _golden(admin: httpx.Client) -> None:
    """Pinned to h2: test-driver hosts do not share a shared_dir pool's volumes, so golden must
    start where its disk is (a provisioned VM that is not pinned starts on the best host)."""
    body = {
        "pinned": True,
        "name": "golden",
        "vcpus": 2,
        "memory_mib": 768,
        "disks": [{"storage": "shared", "size_bytes": GIB}],
        "nics": [{"source": "br0"}],
        "host": "h2",
    }
    assert admin.post(f"{API}/clusters/c1/vms", json=body).status_code == 201


def _template(admin: httpx.Client) -> dict:
    resp = admin.post(f"{API}/vms/golden/template", json={"name": "web", "description": "web tier"})
    assert resp.status_code == 201, resp.text
    return resp.json()["template"]


def test_template_thin_and_full_vms_and_delete_rules(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    _golden(admin)
    t = _template(admin)
    assert t["disks"] == [
        {"domain": "shared", "volume": "web-tpl-disk1.qcow2", "format": "qcow2", "target": "vda",
         "capacity_bytes": GIB}
    ]  # fmt: skip
    rec = live.engine.provision.templates.get("web")
    assert rec is not None and "<uuid>" not in rec["xml"] and "mac address" not in rec["xml"]
    assert [x["name"] for x in admin.get(f"{API}/templates").json()] == ["Blank", "web"]

    thin = admin.post(
        f"{API}/clusters/c1/vms", json={"name": "w1", "template": "web", "host": "h2"}
    )
    assert thin.status_code == 201, thin.text
    (disk,) = thin.json()["disks"]
    assert disk["volume"] == "w1-disk1.qcow2"
    vol = _volume_xml(live, "h2", "w1-disk1.qcow2")
    assert vol.findtext("backingStore/path", "").endswith("/web-tpl-disk1.qcow2")
    full_body = {"name": "w2", "template": "web", "thin": False, "host": "h2", "memory_mib": 512}
    full = admin.post(f"{API}/clusters/c1/vms", json=full_body)
    assert full.status_code == 201, full.text
    assert _volume_xml(live, "h2", "w2-disk1.qcow2").find("backingStore") is None
    live.settle()
    w1 = live.engine.snapshot().vms_named("w1")[0]
    w2 = live.engine.snapshot().vms_named("w2")[0]
    assert (w1.vcpus, w1.memory_mib, w2.memory_mib) == (2, 768, 512)  # the template's size
    assert w1.devices is not None and w1.devices.nics[0].source == "br0"

    shown = admin.get(f"{API}/templates/web").json()
    assert (shown["vms"], shown["thin_vms"]) == (["w1", "w2"], ["w1"])
    refused = admin.delete(f"{API}/templates/web")
    assert refused.status_code == 409
    assert "template web is used by w1" in refused.json()["error"]["message"]
    assert admin.delete(f"{API}/vms/w1", params={"disks": "true"}).status_code == 200
    gone = admin.delete(f"{API}/templates/web")
    assert gone.status_code == 200, gone.text
    assert gone.json()["deleted_disks"] == ["shared/web-tpl-disk1.qcow2"]
    assert admin.delete(f"{API}/templates/Blank").status_code == 400
    assert admin.get(f"{API}/templates/web").status_code == 404
    assert not any(r.get("template") for r in live.engine.store.table("disks").all())


def test_template_refusals(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    _golden(admin)
    assert admin.post(f"{API}/vms/golden/start").status_code == 200
    resp = admin.post(f"{API}/vms/golden/template", json={"name": "web"})
    assert resp.status_code == 409 and "shut it down first" in resp.json()["error"]["message"]
    assert admin.post(f"{API}/vms/golden/poweroff").status_code == 200
    # big's disk is a plain file, on no storage domain
    assert admin.post(f"{API}/vms/big/poweroff").status_code == 200
    resp = admin.post(f"{API}/vms/big/template", json={"name": "db"})
    assert resp.status_code == 400 and "ovtui copies only those" in resp.json()["error"]["message"]
    _template(admin)
    resp = admin.post(f"{API}/vms/golden/template", json={"name": "web"})
    assert resp.status_code == 409 and "already exists" in resp.json()["error"]["message"]
    resp = admin.post(f"{API}/clusters/c1/vms", json={"name": "x", "template": "nope"})
    assert resp.status_code == 400
    assert resp.json()["error"]["message"] == "no template named 'nope' (templates: Blank, web)"
    op = live.as_role("PowerUser")
    assert op.post(f"{API}/vms/golden/template", json={"name": "t2"}).status_code == 403


def test_clone_a_shut_off_vm(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    _golden(admin)
    resp = admin.post(f"{API}/vms/golden/clone", json={"name": "golden-2"})
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert out["result"] == "cloned golden as golden-2 on h2"
    assert [d["volume"] for d in out["disks"]] == ["golden-2-disk1.qcow2"]
    live.settle()
    a, b = (live.engine.snapshot().vms_named(n)[0] for n in ("golden", "golden-2"))
    assert a.uuid != b.uuid and (b.vcpus, b.memory_mib) == (2, 768)
    assert a.devices is not None and b.devices is not None
    assert a.devices.nics[0].mac != b.devices.nics[0].mac
    resp = admin.post(f"{API}/vms/big/clone", json={"name": "big-2"})
    assert resp.status_code == 409 and "shut it down first" in resp.json()["error"]["message"]
    resp = admin.post(f"{API}/vms/golden/clone", json={"name": "golden-2"})
    assert resp.status_code == 409


def test_edit_says_how_each_change_applies(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    _golden(admin)
    body = {"vcpus": 4, "memory_mib": 2048, "description": "db", "highly_available": True,
            "ha_priority": 80, "affinity_group": "db"}  # fmt: skip
    resp = admin.patch(f"{API}/vms/golden", json=body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["applied"] == {
        "vcpus": "defined", "memory_mib": "defined", "description": "defined", "flags": "defined"
    }  # fmt: skip
    live.settle()
    vm = live.engine.snapshot().vms_named("golden")[0]
    assert (vm.vcpus, vm.memory_mib, vm.highly_available, vm.affinity_group) == (
        4, 2048, True, "db"
    )  # fmt: skip
    assert live.engine.store.vm_settings(vm.uuid)["ha_priority"] == 80
    rec = live.engine.provision.definitions.get(vm.uuid)
    assert rec is not None and "<vcpu" in rec["xml"] and ">4</vcpu>" in rec["xml"]
    resp = admin.patch(f"{API}/vms/golden", json={"memory_mib": 1 << 20})
    assert resp.status_code == 400 and "more than any host" in resp.json()["error"]["message"]
    assert admin.patch(f"{API}/vms/golden", json={}).status_code == 400
    # running: the test driver sets vCPUs live up to the maximum (4 now) and memory live up
    # to the maximum (2 GiB); more memory waits for the next start
    assert admin.post(f"{API}/vms/golden/start").status_code == 200
    resp = admin.patch(f"{API}/vms/golden", json={"vcpus": 2, "memory_mib": 4096})
    assert resp.status_code == 200, resp.text
    assert resp.json()["applied"] == {"vcpus": "live", "memory_mib": "next start"}
