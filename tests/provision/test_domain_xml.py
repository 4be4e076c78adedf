"""Domain XML building, pure: what the fleet reads back from it is what was asked for."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ovtui.fleet.reading import METADATA_NS, parse_config
from ovtui.provision import domain_xml
from ovtui.provision.domain_xml import DiskRef, blank_xml, edit_xml, from_template, strip_identity
from ovtui.provision.names import name_problem
from ovtui.provision.spec import NicSpec, VmSpec

UUID = "6f1b1c3e-0000-4000-8000-000000000001"
DISK = DiskRef("ovtui-shared", "web-1-disk1.qcow2", "qcow2", "vda")


def _spec(**kw: object) -> VmSpec:
    base: dict[str, object] = {"name": "web-1", "cluster": "c1", "vcpus": 2, "memory_mib": 768}
    return VmSpec(**{**base, **kw})  # type: ignore[arg-type]


def test_the_metadata_namespace_is_the_one_the_fleet_reads() -> None:
    assert domain_xml.METADATA_NS == METADATA_NS


def test_blank_vm_reads_back_with_its_flags_disks_and_nics() -> None:
    spec = _spec(ha=True, ha_priority=70, pinned=True, affinity_group="db", nics=(NicSpec("br0"),))
    xml = blank_xml(spec, UUID, "kvm", [DISK])
    root = ET.fromstring(xml)
    assert root.get("type") == "kvm"
    assert (root.findtext("name"), root.findtext("uuid"), root.findtext("vcpu")) == (
        "web-1",
        UUID,
        "2",
    )
    assert root.find("memory").text == "768" and root.find("memory").get("unit") == "MiB"
    cfg = parse_config(xml, active=False)
    assert cfg.meta.highly_available and cfg.meta.pinned and cfg.meta.affinity_group == "db"
    (disk,) = cfg.devices.disks
    assert (disk.target, disk.source_type, disk.source) == (
        "vda",
        "volume",
        "ovtui-shared/web-1-disk1.qcow2",
    )
    (nic,) = cfg.devices.nics
    assert (nic.type, nic.source, nic.model, nic.mac) == ("bridge", "br0", "virtio", "")
    meta = root.find(f"metadata/{{{METADATA_NS}}}vm")
    assert meta is not None and meta.get("ha_priority") == "70"


def test_the_test_driver_gets_a_plain_definition() -> None:
    root = ET.fromstring(blank_xml(_spec(), UUID, "test", []))
    assert root.get("type") == "test"
    assert root.find("devices/serial") is None and root.find("os/boot") is None


def test_a_template_loses_identity_and_a_vm_from_it_gets_its_own() -> None:
    source = (
        "<domain type='qemu'><name>golden</name><uuid>11111111-2222-4333-8444-555555555555</uuid>"
        "<memory unit='MiB'>128</memory><currentMemory unit='MiB'>128</currentMemory>"
        "<vcpu>1</vcpu><os><type>hvm</type><kernel>/k</kernel></os><devices>"
        "<disk type='file' device='disk'><source file='/a.qcow2'/><target dev='vda'/></disk>"
        "<interface type='bridge'><mac address='52:54:00:aa:bb:cc'/><source bridge='br0'/>"
        "<target dev='vnet3'/></interface>"
        "<serial type='pty'><log file='/var/log/lab/golden.log'/><target port='0'/></serial>"
        "</devices></domain>"
    )
    template = strip_identity(source)
    assert "uuid" not in template and "52:54:00" not in template and "/a.qcow2" not in template
    assert "vnet3" not in template
    xml = from_template(template, _spec(template="golden"), UUID, [DISK])
    root = ET.fromstring(xml)
    assert root.findtext("uuid") == UUID and root.findtext("os/kernel") == "/k"
    assert root.find("devices/serial/log").get("file") == "/var/log/lab/web-1.log"
    cfg = parse_config(xml, active=False)
    assert [d.source for d in cfg.devices.disks] == ["ovtui-shared/web-1-disk1.qcow2"]
    assert [n.mac for n in cfg.devices.nics] == [""]


def test_edit_changes_size_and_flags_and_keeps_identity_and_devices() -> None:
    xml = blank_xml(_spec(), UUID, "kvm", [DISK])
    edited = edit_xml(xml, _spec(vcpus=4, memory_mib=2048, description="db", migratable=False))
    root = ET.fromstring(edited)
    assert (root.findtext("uuid"), root.findtext("vcpu"), root.findtext("memory")) == (
        UUID,
        "4",
        "2048",
    )
    assert root.findtext("description") == "db"
    cfg = parse_config(edited, active=False)
    assert not cfg.meta.migratable and len(cfg.devices.disks) == 1


def test_names() -> None:
    assert name_problem("web-1") is None and name_problem("a.b_c") is None
    for bad in ("", "-x", "a b", "x/y", "é", "a" * 64, "dot."):
        problem = name_problem(bad)
        assert problem is not None and "letters, digits" in problem, bad
