"""Import: OVF parsing (pure), real images of every format converted with qemu-img, OVAs built
here (good and corrupt), and refusals through the API that leave nothing behind. The upload and
a VM that boots from an import are on the lab (tests/lab/test_provision_lab.py)."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from ovtui.fleet.errors import FleetError
from ovtui.provision import importer
from ovtui.provision.ovf import OvfError, parse
from tests.conftest import API, LiveEngine
from tests.provision.test_create_api import _spec, _state
from tests.storage.helpers import all_read, wait_storage, with_domains

OVF = """<?xml version="1.0"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:id="file1" ovf:href="{href}"/></References>
  <DiskSection><Disk ovf:diskId="vmdisk1" ovf:fileRef="file1"/></DiskSection>
  <VirtualSystem ovf:id="appliance">
    <Name>appliance-1</Name>
    <VirtualHardwareSection>
      <Item><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>768</rasd:VirtualQuantity></Item>
      <Item><rasd:ResourceType>17</rasd:ResourceType>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
"""


def _image(path: Path, fmt: str, size: str = "16M") -> Path:
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, str(path), size], check=True)
    return path


def _ova(path: Path, ovf: str, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in {"appliance.ovf": ovf.encode(), **members}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_ovf() -> None:
    vm = parse(OVF.format(href="disk1.vmdk"))
    assert (vm.name, vm.vcpus, vm.memory_mib, vm.disks) == ("appliance-1", 2, 768, ("disk1.vmdk",))
    with pytest.raises(OvfError, match="not XML"):
        parse("<Envelope>")
    with pytest.raises(OvfError, match="no processor count or memory size"):
        parse(OVF.format(href="d").replace("<rasd:ResourceType>3<", "<rasd:ResourceType>9<"))


@pytest.mark.parametrize("fmt", ["qcow2", "raw", "vmdk", "vdi"])
def test_every_format_becomes_qcow2(tmp_path: Path, fmt: str) -> None:
    src = _image(tmp_path / f"disk.{fmt}", fmt)
    work = tmp_path / "work"
    work.mkdir()
    got = importer.prepare(src, work)
    (disk,) = got.disks
    cmd = ["qemu-img", "info", "--output=json", str(disk)]
    info = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    assert (info["format"], info["virtual-size"], got.name) == ("qcow2", 16 << 20, "disk")


def test_an_ova(tmp_path: Path) -> None:
    vmdk = _image(tmp_path / "d.vmdk", "vmdk").read_bytes()
    ova = _ova(tmp_path / "app.ova", OVF.format(href="disk1.vmdk"), {"disk1.vmdk": vmdk})
    work = tmp_path / "work"
    work.mkdir()
    got = importer.prepare(ova, work)
    assert (got.name, got.vcpus, got.memory_mib, len(got.disks)) == ("appliance-1", 2, 768, 1)


@pytest.mark.parametrize(
    ("what", "words"),
    [
        ("not-a-tar", "is not a readable OVA"),
        ("no-ovf", "holds no .ovf descriptor"),
        ("missing-disk", "names disk 'disk1.vmdk', which the OVA does not hold"),
        ("bad-ovf", "the OVF descriptor is not XML"),
        ("bad-disk", "is not a disk image qemu-img can read"),
    ],
)
def test_corrupt_ovas_are_refused(tmp_path: Path, what: str, words: str) -> None:
    ova = tmp_path / "bad.ova"
    ovf = OVF.format(href="disk1.vmdk")
    if what == "not-a-tar":
        ova.write_bytes(b"\0garbage" * 100)
    elif what == "no-ovf":
        with tarfile.open(ova, "w"):
            pass
    elif what == "missing-disk":
        _ova(ova, ovf, {})
    elif what == "bad-ovf":
        _ova(ova, "<Envelope", {})
    else:
        _ova(ova, ovf, {"disk1.vmdk": b"KDMV\x01\x00\x00\x00truncated"})  # a broken VMDK
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(FleetError, match=words) as info:
        importer.prepare(ova, work)
    assert info.value.kind == "invalid"


def test_api_refusals_leave_nothing(
    start_engine: Callable[..., LiveEngine], tmp_path: Path
) -> None:
    imports = tmp_path / "imports"
    imports.mkdir()
    _ova(imports / "bad.ova", OVF.format(href="disk1.vmdk"), {})
    _image(imports / "disk.qcow2", "qcow2")
    (tmp_path / "secret.qcow2").write_bytes(b"")
    config = with_domains(_spec(), [{"name": "shared", "type": "shared_dir", "path": "/srv/s"}])
    config = config.model_copy(
        update={"provision": config.provision.model_copy(update={"import_dir": imports})}
    )
    live = start_engine(config=config)
    admin = live.as_role("SuperUser")
    wait_storage(admin, all_read)
    before = _state(live)
    cases = [
        ({"source": "bad.ova"}, "does not hold"),
        ({"source": "../secret.qcow2"}, "is outside the import directory"),
        ({"source": "nope.qcow2"}, "no file 'nope.qcow2' in the import directory"),
        ({"source": "disk.qcow2", "name": "big"}, "a VM named 'big' already exists"),
        ({"source": "disk.qcow2", "storage": "nope"}, "no storage domain named 'nope'"),
        ({"source": "disk.qcow2", "v2v": True}, "virt-v2v"),
    ]
    for body, words in cases:
        resp = admin.post(f"{API}/clusters/c1/vms/import", json={"storage": "shared", **body})
        assert 400 <= resp.status_code < 500, (body, resp.text)
        assert words in resp.json()["error"]["message"], resp.text
        assert _state(live) == before, body
    # the test driver cannot receive an upload: the import fails there, and is undone
    resp = admin.post(
        f"{API}/clusters/c1/vms/import", json={"source": "disk.qcow2", "storage": "shared"}
    )
    assert resp.status_code == 502 and "virStorageVolUpload" in resp.json()["error"]["message"]
    assert _state(live) == before
