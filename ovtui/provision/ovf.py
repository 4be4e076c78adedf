"""Reading an OVF descriptor (the .ovf inside an OVA): name, vCPUs, memory and disks. Pure.

DMTF OVF 1.x/2.x: VirtualHardwareSection items by rasd:ResourceType (3 processor, 4 memory,
17 disk drive); a disk item's HostResource names a Disk of the DiskSection (ovf:/disk/ID),
whose fileRef names a File of References (its href is the member of the OVA).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

_UNITS = {"": 1, "byte": 1, "kilobytes": 1 << 10, "megabytes": 1 << 20, "gigabytes": 1 << 30}


class OvfError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class OvfVm:
    name: str
    vcpus: int
    memory_mib: int
    disks: tuple[str, ...]  # OVA member names, in order


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(el: ET.Element, name: str) -> str:
    return next((v for k, v in el.attrib.items() if _local(k) == name), "")


def _find_all(root: ET.Element, name: str) -> list[ET.Element]:
    return [el for el in root.iter() if _local(el.tag) == name]


def _text(el: ET.Element, name: str) -> str:
    return next(((c.text or "").strip() for c in el if _local(c.tag) == name), "")


def _bytes_of(quantity: str, units: str) -> int:
    """VirtualQuantity with AllocationUnits such as 'byte * 2^20' or 'MegaBytes'."""
    u = units.replace(" ", "").lower()
    m = re.fullmatch(r"byte\*2\^(\d+)", u)
    factor = 1 << int(m.group(1)) if m else _UNITS.get(u, 1 << 20)
    return int(quantity) * factor


def parse(text: str) -> OvfVm:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise OvfError(f"the OVF descriptor is not XML ({exc})") from None
    systems = _find_all(root, "VirtualSystem")
    if not systems:
        raise OvfError("the OVF descriptor has no VirtualSystem")
    system = systems[0]
    name = _text(system, "Name") or _attr(system, "id")
    files = {_attr(f, "id"): _attr(f, "href") for f in _find_all(root, "File")}
    disk_files = {
        _attr(d, "diskId"): files.get(_attr(d, "fileRef"), "") for d in _find_all(root, "Disk")
    }
    vcpus, memory, disks = 0, 0, []
    for item in _find_all(system, "Item"):
        kind = _text(item, "ResourceType")
        if kind == "3":
            vcpus = int(_text(item, "VirtualQuantity") or 0)
        elif kind == "4":
            memory = _bytes_of(
                _text(item, "VirtualQuantity") or "0", _text(item, "AllocationUnits")
            )
        elif kind == "17":
            ref = _text(item, "HostResource").split("/")[-1]
            href = disk_files.get(ref, "")
            if not href:
                raise OvfError(f"disk item {ref!r} names no file of the OVF's References")
            disks.append(href)
    if vcpus <= 0 or memory <= 0:
        raise OvfError("the OVF descriptor gives no processor count or memory size")
    return OvfVm(name, vcpus, max(memory >> 20, 1), tuple(disks))
