"""The helper domain's XML: the VM's disk, as vda, in a paused-only domain. Pure."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import libvirt
import pytest

from ovtui.fleet.reading import read_host
from ovtui.storage.move_helper import helper_name, helper_xml
from ovtui.storage.move_xml import DiskSource

VM = """<domain type='qemu'><name>vm1</name><devices>
<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/>
<source pool='ovtui-shared' volume='d.qcow2'/><target dev='vdb' bus='virtio'/>
<boot order='2'/><address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/>
</disk>
<disk type='file' device='disk'><source file='/x/root.img'/><target dev='vda' bus='virtio'/></disk>
</devices></domain>"""


def test_the_helper_holds_only_the_moved_disk_as_vda() -> None:
    root = ET.fromstring(helper_xml(helper_name("abc"), VM, "vdb"))
    assert root.findtext("name") == "ovtui-copy-abc"
    disks = root.findall("devices/disk")
    assert len(disks) == 1
    disk = disks[0]
    assert disk.get("type") == "volume"
    assert disk.find("source").attrib == {"pool": "ovtui-shared", "volume": "d.qcow2"}  # type: ignore[union-attr]
    assert disk.find("driver").get("type") == "qcow2"  # type: ignore[union-attr]
    assert disk.find("target").attrib == {"dev": "vda", "bus": "virtio"}  # type: ignore[union-attr]
    assert disk.find("address") is None and disk.find("boot") is None
    assert root.find("devices/interface") is None


def test_a_missing_disk_is_an_error() -> None:
    with pytest.raises(ValueError, match="no disk vdc"):
        helper_xml("h", VM, "vdc")


def test_a_running_helper_is_no_vm_of_the_fleet() -> None:
    conn = libvirt.open("test:///default")
    try:
        name = helper_name("abc123")
        conn.createXML(
            f"<domain type='test'><name>{name}</name><memory>32768</memory>"
            "<os><type>hvm</type></os></domain>",
            0,
        )
        try:
            names = {d.name for d in read_host(conn, {}).domains}
        finally:
            conn.lookupByName(name).destroy()
        assert "test" in names and name not in names
    finally:
        conn.close()


def test_a_moved_disk_is_detached_by_what_its_source_now_is() -> None:
    # after a move, libvirt names the disk by file or iSCSI LUN, no longer by pool/volume
    lun = DiskSource("network", "raw", iqn="iqn.x:t", lun=2, host="127.0.0.1", port="3260",
                     initiator="iqn.x:i")  # fmt: skip
    disk = ET.fromstring(lun.device_xml("vdb"))
    assert disk.get("type") == "network" and disk.find("target").attrib == {  # type: ignore[union-attr]
        "dev": "vdb",
        "bus": "virtio",
    }
    assert lun.matches(disk)
    on_file = DiskSource("file", "qcow2", path="/srv/b/d.qcow2")
    disk = ET.fromstring(on_file.device_xml("vdc"))
    assert on_file.matches(disk) and disk.find("driver").get("type") == "qcow2"  # type: ignore[union-attr]
