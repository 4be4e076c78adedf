"""Storage domains, disks and disk attachments through the real oVirt SDK, served from ovtui's
storage layer: a local domain on h1 (test driver) holding a volume web-1 uses as vdb, and a disk
made through the native API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

sdk = pytest.importorskip("ovirtsdk4")
import ovirtsdk4.types as types  # noqa: E402

from ovtui.api.ovirt.ids import stable_id  # noqa: E402
from ovtui.config.schema import GrantConfig  # noqa: E402
from ovtui.config.storage_schema import StorageDomainConfig  # noqa: E402
from ovtui.storage.move_model import DiskMove, Endpoint  # noqa: E402
from tests.conftest import API  # noqa: E402
from tests.ovirt.ansible_run import run  # noqa: E402
from tests.ovirt.conftest import OvirtEngine, ovirt_config, start  # noqa: E402
from tests.storage.helpers import all_read, wait_storage  # noqa: E402

GIB = 1 << 30
HERE = Path(__file__).parent
VOLUME = (
    "<volume type='file'><name>data.qcow2</name><key>/var/lib/vm/data.qcow2</key>"
    f"<capacity unit='bytes'>{GIB}</capacity><allocation unit='bytes'>{GIB // 4}</allocation>"
    "<target><format type='qcow2'/></target></volume>"
)


def _prepare(root: Path) -> None:
    """h1 already has the domain's pool, holding data.qcow2, which web-1 uses as vdb."""
    node = next(root.rglob("h1.xml"))
    text = node.read_text()
    pool = (
        "<pool type='dir'><name>ovtui-loc</name><target><path>/var/lib/vm</path></target>"
        f"{VOLUME}</pool>"
    )
    vdb = (
        '<disk type="volume" device="disk"><source pool="ovtui-loc" volume="data.qcow2"/>'
        '<target dev="vdb" bus="virtio"/></disk>'
    )
    at = text.index("<name>web-1</name>")
    end = text.index("</devices>", at)
    node.write_text((text[:end] + vdb + text[end:]).replace("</node>", pool + "</node>"))
    # dc2reader: no role of its own, ReadOnly on dc2 only (granted in the fixture)
    users = root / "local-users.toml"
    text = users.read_text()
    hashed = text.split('password_hash = "', 1)[1].split('"', 1)[0]
    users.write_text(
        text + f'\n[[users]]\nname = "dc2reader"\npassword_hash = "{hashed}"\nroles = []\n'
    )


@pytest.fixture(scope="module")
def engine() -> Iterator[OvirtEngine]:
    config, ca = ovirt_config(prepare=_prepare)
    loc = StorageDomainConfig(
        name="loc", datacenter="dc1", type="local", path="/var/lib/vm", hosts=["h1"]
    )
    grant = GrantConfig(user="dc2reader", role="ReadOnly", scope="datacenter", object="dc2")
    auth = config.auth.model_copy(update={"grants": [*config.auth.grants, grant]})
    running = start(config.model_copy(update={"storage_domains": [loc], "auth": auth}), ca)
    admin = running.live.as_role("SuperUser")
    wait_storage(admin, all_read)
    made = admin.post(f"{API}/storage/loc/disks", json={"name": "scratch", "size_bytes": 2 * GIB})
    assert made.status_code == 201, made.text
    yield running
    running.live.stop()


def test_storage_domain_list_get_and_search(engine: OvirtEngine) -> None:
    with engine.connection() as conn:
        sds = conn.system_service().storage_domains_service()
        [sd] = sds.list()
        assert (sd.name, sd.id) == ("loc", stable_id("storagedomain", "loc"))
        assert sd.type == types.StorageDomainType.DATA
        assert sd.storage.type == types.StorageType.LOCALFS and sd.storage.path == "/var/lib/vm"
        assert sd.status == types.StorageDomainStatus.ACTIVE
        assert sd.external_status == types.ExternalStatus.OK
        native = engine.live.as_role("SuperUser").get(f"{API}/storage/loc").json()
        assert sd.available == native["available_bytes"] and sd.used == native["allocation_bytes"]
        assert sd.committed == 3 * GIB  # data.qcow2 (1 GiB) and scratch (2 GiB)
        [dc] = sd.data_centers
        assert conn.follow_link(dc).name == "dc1"
        assert sds.storage_domain_service(sd.id).get().name == "loc"
        assert [s.name for s in sds.list(search="name=lo*")] == ["loc"]
        assert sds.list(search="name=nfs") == []
        dc1 = next(
            d for d in conn.system_service().data_centers_service().list() if d.name == "dc1"
        )
        dcs = conn.system_service().data_centers_service().data_center_service(dc1.id)
        assert [s.name for s in dcs.storage_domains_service().list()] == ["loc"]
        with pytest.raises(sdk.NotFoundError):
            sds.storage_domain_service(stable_id("storagedomain", "gone")).get()


def test_disks_list_get_and_search(engine: OvirtEngine) -> None:
    with engine.connection() as conn:
        disks = conn.system_service().disks_service()
        by_name = {d.name: d for d in disks.list()}
        assert set(by_name) == {"data.qcow2", "scratch"}
        data = by_name["data.qcow2"]
        assert (data.provisioned_size, data.actual_size) == (GIB, GIB // 4)
        assert data.format == types.DiskFormat.COW and data.status == types.DiskStatus.OK
        assert data.sparse is None  # not made by ovtui: its allocation policy is unknown
        scratch = by_name["scratch"]
        assert scratch.provisioned_size == 2 * GIB and scratch.sparse is True
        assert scratch.format == types.DiskFormat.COW  # qcow2, thin: the native defaults
        [where] = scratch.storage_domains
        assert conn.follow_link(where).name == "loc"
        assert disks.disk_service(scratch.id).get().name == "scratch"
        assert [d.name for d in disks.list(search="name=scr*")] == ["scratch"]
        with pytest.raises(sdk.NotFoundError):
            disks.disk_service(stable_id("disk", "loc/gone")).get()


def test_a_moving_disk_is_locked(engine: OvirtEngine) -> None:
    snap = engine.live.engine.snapshot()
    web = snap.vms_named("web-1")[0]
    move = DiskMove(
        "ovsd-test", "web-1", web.uuid, "h1", "vdb", True,
        Endpoint("loc", "data.qcow2"), Endpoint("loc", "data-copy.qcow2"), GIB, stage="copying",
    )  # fmt: skip
    table = engine.live.engine.store.table("disk_moves")
    table.insert(move.as_dict())
    try:
        with engine.connection() as conn:
            disks = conn.system_service().disks_service()
            [data] = disks.list(search="name=data.qcow2")
            assert data.status == types.DiskStatus.LOCKED
    finally:
        table.truncate()
    with engine.connection() as conn:
        [data] = conn.system_service().disks_service().list(search="name=data.qcow2")
        assert data.status == types.DiskStatus.OK


def test_vm_disk_attachments(engine: OvirtEngine) -> None:
    with engine.connection() as conn:
        vms = conn.system_service().vms_service()
        [web] = vms.list(search="name=web-1")
        service = vms.vm_service(web.id).disk_attachments_service()
        [att] = service.list()  # vda is a file outside every domain: no oVirt disk to link
        assert att.interface == types.DiskInterface.VIRTIO and att.active is True
        assert att.bootable is False  # vda is the first disk
        disk = conn.follow_link(att.disk)
        assert disk.name == "data.qcow2" and att.id == disk.id
        assert service.attachment_service(att.id).get().disk.id == disk.id
        [other] = vms.list(search="name=web-2")
        assert vms.vm_service(other.id).disk_attachments_service().list() == []


def test_unknown_storage_ids_are_audited_refusals(engine: OvirtEngine) -> None:
    log = engine.live.engine.audit_log
    before = log.last_seq
    with engine.connection() as conn:
        sds = conn.system_service().storage_domains_service()
        with pytest.raises(sdk.NotFoundError, match="no storage domain named"):
            sds.storage_domain_service(stable_id("storagedomain", "nope")).get()
    refused = [r for r in log.read(since_seq=before) if "status" in r["params"]]
    assert [(r["result"], r["params"]["status"]) for r in refused] == [("refused", 404)]
    assert "no storage domain named" in refused[0]["detail"]


def test_storage_outside_the_callers_scope_is_not_shown(engine: OvirtEngine) -> None:
    with engine.connection("dc2reader@internal") as conn:
        system = conn.system_service()
        assert [d.name for d in system.data_centers_service().list()] == ["dc2"]
        assert system.storage_domains_service().list() == []  # loc is in dc1
        assert system.disks_service().list() == []
        sd = system.storage_domains_service().storage_domain_service(
            stable_id("storagedomain", "loc")
        )
        with pytest.raises(sdk.Error, match=r"inventory.read.*403"):
            sd.get()
        with pytest.raises(sdk.NotFoundError):
            system.disks_service().disk_service(stable_id("disk", "loc/data.qcow2")).get()


@pytest.mark.slow  # three module runs, each a fresh Python
def test_ansible_storage_info_modules(engine: OvirtEngine, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = run(
        "ansible-playbook", "-i", "localhost,", str(HERE / "storage_playbook.yml"),
        "-e", f"engine_url={engine.url} ca_file={engine.ca} out={out}",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    r = json.loads(out.read_text())
    [sd] = r["sd_info"]["ovirt_storage_domains"]
    assert sd["name"] == "loc" and sd["storage"]["type"] == "localfs"
    assert sd["committed"] == 3 * GIB
    [disk] = r["disk_info"]["ovirt_disks"]
    assert disk["provisioned_size"] == 2 * GIB and disk["format"] == "cow"
    [vm] = r["vm_info"]["ovirt_vms"]
    [att] = vm["disk_attachments"]  # fetch_nested follows the VM's diskattachments link
    assert att["id"] == stable_id("disk", "loc/data.qcow2")  # an attachment's ID is its disk's
