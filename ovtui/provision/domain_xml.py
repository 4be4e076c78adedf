"""Domain XML for the VMs ovtui provisions. Pure: strings in, strings out, no libvirt.

Two ways in: `blank_xml` writes a definition from a VmSpec; `from_template` takes a template's
definition (identity already removed by `strip_identity`) and gives it the new VM's name, UUID,
size, disks and flags. `edit_xml` changes the flags, size and description of a definition the
engine keeps. The operator's flags live in <metadata> (ovtui namespace), where the fleet reads
them (ovtui.fleet.reading), so a VM's definition alone says how the scheduler treats it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import PurePosixPath

from ovtui.provision.spec import NicSpec, VmSpec

METADATA_NS = "https://ovtui.example/xmlns/vm/1"  # = ovtui.fleet.reading.METADATA_NS (tested)
ET.register_namespace("ovtui", METADATA_NS)
_META = f"{{{METADATA_NS}}}vm"


@dataclass(frozen=True, slots=True)
class DiskRef:
    """A disk of the new VM: a volume of a storage domain's pool (same name on every host)."""

    pool: str
    volume: str
    format: str
    target: str  # vda, vdb, ...
    readonly: bool = False
    device: str = "disk"  # disk | cdrom


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _set_meta(root: ET.Element, spec: VmSpec) -> None:
    metadata = root.find("metadata")
    if metadata is None:
        metadata = ET.SubElement(root, "metadata")
    el = metadata.find(_META)
    if el is None:
        el = ET.SubElement(metadata, _META)
    el.set("ha", _flag(spec.ha))
    el.set("ha_priority", str(spec.ha_priority))
    el.set("pinned", _flag(spec.pinned))
    el.set("migratable", _flag(spec.migratable))
    el.set("affinity", spec.affinity_group)
    el.set("anti_affinity", spec.anti_affinity_group)
    el.set("template", spec.template)
    el.set("provisioned", "true")


def meta_xml(spec: VmSpec) -> str:
    """The ovtui <vm/> element alone, for virDomainSetMetadata (libvirt adds the namespace)."""
    holder = ET.Element("domain")
    _set_meta(holder, spec)
    el = holder.find(f"metadata/{_META}")
    assert el is not None
    return ET.tostring(ET.Element("vm", dict(el.attrib)), encoding="unicode")


def _text(root: ET.Element, tag: str, value: str, **attrs: str) -> ET.Element:
    el = root.find(tag)
    if el is None:
        el = ET.SubElement(root, tag)
    el.text = value
    el.attrib.clear()
    el.attrib.update(attrs)
    return el


def disk_element(d: DiskRef) -> ET.Element:
    el = ET.Element("disk", type="volume", device=d.device)
    ET.SubElement(el, "driver", name="qemu", type=d.format)
    ET.SubElement(el, "source", pool=d.pool, volume=d.volume)
    bus = "ide" if d.device == "cdrom" else "virtio"  # machine 'pc': IDE, no AHCI controller
    ET.SubElement(el, "target", dev=d.target, bus=bus)
    if d.readonly or d.device == "cdrom":
        ET.SubElement(el, "readonly")
    return el


def nic_element(n: NicSpec) -> ET.Element:
    el = ET.Element("interface", type=n.type)
    ET.SubElement(el, "source", {"bridge" if n.type == "bridge" else "network": n.source})
    ET.SubElement(el, "model", type=n.model)
    return el


def _devices(root: ET.Element) -> ET.Element:
    devices = root.find("devices")
    return devices if devices is not None else ET.SubElement(root, "devices")


def _apply(root: ET.Element, spec: VmSpec, uuid: str) -> None:
    _text(root, "name", spec.name)
    _text(root, "uuid", uuid)
    _text(root, "memory", str(spec.memory_mib), unit="MiB")
    cur = root.find("currentMemory")
    if cur is not None:
        root.remove(cur)
    _text(root, "vcpu", str(spec.vcpus))
    if spec.description:
        _text(root, "description", spec.description)
    else:
        desc = root.find("description")
        if desc is not None:
            root.remove(desc)
    _set_meta(root, spec)


def _order(root: ET.Element) -> None:
    """libvirt does not care about element order, but people reading `virsh dumpxml` do."""
    first = ("name", "uuid", "description", "metadata", "memory", "vcpu")
    kids = list(root)
    head = [k for tag in first for k in kids if k.tag == tag]
    rest = [k for k in kids if k.tag not in first]
    for k in kids:
        root.remove(k)
    root.extend(head + rest)


def blank_xml(spec: VmSpec, uuid: str, virt_type: str, disks: list[DiskRef]) -> str:
    """A new VM from nothing: `virt_type` is the host driver's domain type (kvm, qemu, test)."""
    root = ET.Element("domain", type=virt_type)
    _apply(root, spec, uuid)
    os_el = ET.SubElement(root, "os")
    if virt_type == "test":
        ET.SubElement(os_el, "type").text = "hvm"
    else:
        ET.SubElement(os_el, "type", arch="x86_64", machine="pc").text = "hvm"
        ET.SubElement(os_el, "boot", dev="hd")
        ET.SubElement(ET.SubElement(root, "features"), "acpi")
        ET.SubElement(root, "clock", offset="utc")
    ET.SubElement(root, "on_poweroff").text = "destroy"
    ET.SubElement(root, "on_reboot").text = "restart"
    ET.SubElement(root, "on_crash").text = "destroy"
    devices = ET.SubElement(root, "devices")
    for d in disks:
        devices.append(disk_element(d))
    for n in spec.nics:
        devices.append(nic_element(n))
    if virt_type != "test":
        serial = ET.SubElement(devices, "serial", type="pty")
        ET.SubElement(serial, "target", port="0")
        console = ET.SubElement(devices, "console", type="pty")
        ET.SubElement(console, "target", type="serial", port="0")
    _order(root)
    return ET.tostring(root, encoding="unicode")


def strip_identity(xml: str) -> str:
    """A template's definition: no UUID, no MACs, no disks (the template keeps its own volumes
    and a VM made from it gets new ones), no host-side names of a running VM."""
    root = ET.fromstring(xml)
    for tag in ("uuid", "currentMemory"):
        el = root.find(tag)
        if el is not None:
            root.remove(el)
    devices = _devices(root)
    for disk in devices.findall("disk"):
        if disk.get("device", "disk") in ("disk", "cdrom"):
            devices.remove(disk)
    for nic in devices.findall("interface"):
        for tag in ("mac", "target", "alias", "address"):
            for el in nic.findall(tag):
                nic.remove(el)
    for seclabel in root.findall("seclabel"):
        root.remove(seclabel)
    return ET.tostring(root, encoding="unicode")


def _serial_logs(root: ET.Element, name: str) -> None:
    """A template's serial log file would be shared by every VM made from it: one per VM, in
    the same directory."""
    for log in root.iterfind("devices/serial/log"):
        path = log.get("file")
        if path:
            log.set("file", str(PurePosixPath(path).with_name(f"{name}.log")))


def from_template(template_xml: str, spec: VmSpec, uuid: str, disks: list[DiskRef]) -> str:
    """A new VM from a template's definition: its disks, then the spec's NICs after the
    template's (whose MACs were removed, so libvirt gives new ones)."""
    root = ET.fromstring(template_xml)
    _apply(root, spec, uuid)
    devices = _devices(root)
    for i, d in enumerate(disks):
        devices.insert(i, disk_element(d))
    for n in spec.nics:
        devices.append(nic_element(n))
    _serial_logs(root, spec.name)
    _order(root)
    return ET.tostring(root, encoding="unicode")


def edit_xml(xml: str, spec: VmSpec) -> str:
    """The same VM with the spec's size, description and flags (identity and devices kept)."""
    root = ET.fromstring(xml)
    uuid = root.findtext("uuid") or ""
    _apply(root, spec, uuid)
    _order(root)
    return ET.tostring(root, encoding="unicode")


def with_disks(xml: str, disks: list[DiskRef]) -> str:
    """The definition with its ovtui-made disks replaced (a clone gets its own volumes)."""
    root = ET.fromstring(xml)
    devices = _devices(root)
    for disk in devices.findall("disk"):
        if disk.get("device", "disk") in ("disk", "cdrom"):
            devices.remove(disk)
    for i, d in enumerate(disks):
        devices.insert(i, disk_element(d))
    for nic in devices.findall("interface"):
        for el in nic.findall("mac"):
            nic.remove(el)
    return ET.tostring(root, encoding="unicode")


def uuid_of(xml: str) -> str:
    return ET.fromstring(xml).findtext("uuid") or ""


def virt_type_of(xml: str) -> str:
    return ET.fromstring(xml).get("type", "")
