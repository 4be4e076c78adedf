"""Pool XML per type: the right libvirt type and elements, and libvirt itself accepts it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import libvirt
import pytest

from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.storage.pool_xml import domain_of_pool, pool_name, pool_xml

IQN_T = "iqn.2026-12.lab.ovtui:disks"
IQN_I = "iqn.2026-12.lab.ovtui:engine"


def _sd(**fields: Any) -> StorageDomainConfig:
    return StorageDomainConfig.model_validate({"name": "d1", "datacenter": "dc1", **fields})


def test_directories_become_dir_pools_named_after_the_domain() -> None:
    for kind, hosts in (("shared_dir", []), ("local", ["h1"])):
        root = ET.fromstring(pool_xml(_sd(type=kind, path="/srv/a&b", hosts=hosts)))
        assert root.get("type") == "dir"
        assert root.findtext("name") == "ovtui-d1" and root.findtext("target/path") == "/srv/a&b"
        assert root.find("source") is None
    assert pool_name("d1") == "ovtui-d1" and domain_of_pool("ovtui-d1") == "d1"
    assert domain_of_pool("default") is None


def test_fs_names_the_device_and_the_filesystem_to_format() -> None:
    sd = _sd(type="fs", path="/mnt/b", device="/dev/loop3", hosts=["h1"], filesystem="xfs")
    root = ET.fromstring(pool_xml(sd))
    assert root.get("type") == "fs"
    assert root.find("source/device").get("path") == "/dev/loop3"  # type: ignore[union-attr]
    assert root.find("source/format").get("type") == "xfs"  # type: ignore[union-attr]
    assert root.findtext("target/path") == "/mnt/b"
    default = ET.fromstring(pool_xml(_sd(type="fs", path="/m", device="/dev/x", hosts=["h"])))
    assert default.find("source/format").get("type") == "ext4"  # type: ignore[union-attr]


def test_iscsi_is_an_iscsi_direct_pool_with_portal_target_and_initiator() -> None:
    sd = _sd(type="iscsi", portal="127.0.0.1:13260", target=IQN_T, initiator=IQN_I)
    root = ET.fromstring(pool_xml(sd))
    assert root.get("type") == "iscsi-direct"
    host = root.find("source/host")
    assert host is not None and (host.get("name"), host.get("port")) == ("127.0.0.1", "13260")
    assert root.find("source/device").get("path") == IQN_T  # type: ignore[union-attr]
    assert root.find("source/initiator/iqn").get("name") == IQN_I  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "shared_dir", "path": "/srv/vm"},
        {"type": "local", "path": "/var/lib/vm", "hosts": ["h1"]},
        {"type": "fs", "path": "/mnt/b", "device": "/dev/loop3", "hosts": ["h1"]},
        {"type": "iscsi", "portal": "127.0.0.1:13260", "target": IQN_T, "initiator": IQN_I},
    ],
    ids=lambda f: f["type"],
)
def test_libvirt_parses_it_back_to_the_same_pool(tmp_path: Path, fields: dict[str, Any]) -> None:
    node = tmp_path / "node.xml"
    node.write_text("<node><memory>1048576</memory></node>")
    conn = libvirt.open(f"test://{node}")
    try:
        pool = conn.storagePoolDefineXML(pool_xml(_sd(**fields)), 0)
        back = ET.fromstring(pool.XMLDesc(0))
        assert pool.name() == "ovtui-d1"
        assert back.get("type") == ET.fromstring(pool_xml(_sd(**fields))).get("type")
        if "path" in fields:
            assert back.findtext("target/path") == fields["path"]
    finally:
        conn.close()
