"""XML for a disk move: the blockCopy destination and the persistent definition's new source.

blockCopy does not take `<disk type='volume'>` ("volume is not translated", libvirt 9.0), so the
destination is given as what the volume is: a file, or an iSCSI LUN as a network disk. Pure.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr


@dataclass(frozen=True, slots=True)
class DiskSource:
    """Where a disk's bytes are, as a domain's <disk> says it."""

    type: str  # file | network
    format: str  # qcow2 | raw
    path: str = ""  # file
    iqn: str = ""  # network (iscsi): target IQN
    lun: int = 0
    host: str = ""
    port: str = ""
    initiator: str = ""

    def source_xml(self) -> str:
        if self.type == "file":
            return f"<source file={quoteattr(self.path)}/>"
        return (
            f"<source protocol='iscsi' name={quoteattr(f'{self.iqn}/{self.lun}')}>"
            f"<host name={quoteattr(self.host)} port={quoteattr(self.port)}/>"
            f"<initiator><iqn name={quoteattr(self.initiator)}/></initiator></source>"
        )

    def copy_xml(self) -> str:
        """The blockCopy destination."""
        return (
            f"<disk type={quoteattr(self.type)}><driver type={quoteattr(self.format)}/>"
            f"{self.source_xml()}</disk>"
        )

    def matches(self, disk: ET.Element) -> bool:
        src = disk.find("source")
        if src is None or disk.get("type") != self.type:
            return False
        if self.type == "file":
            return src.get("file") == self.path
        return src.get("name") == f"{self.iqn}/{self.lun}"


def lun_of(volume: str) -> int:
    """iscsi-direct names its volumes unit:0:0:LUN."""
    return int(volume.rsplit(":", 1)[-1])


def find_disk(domain_xml: str, target: str) -> ET.Element | None:
    root = ET.fromstring(domain_xml)
    for disk in root.iter("disk"):
        t = disk.find("target")
        if t is not None and t.get("dev") == target:
            return disk
    return None


def point_at(domain_xml: str, target: str, dest: DiskSource) -> str | None:
    """The domain XML with disk `target` reading from dest; None if it already does."""
    for prefix, uri in re_namespaces(domain_xml):
        ET.register_namespace(prefix, uri)
    root = ET.fromstring(domain_xml)
    disk = next(
        (
            d
            for d in root.iter("disk")
            if (t := d.find("target")) is not None and t.get("dev") == target
        ),
        None,
    )
    if disk is None:
        raise ValueError(f"the domain has no disk {target}")
    if dest.matches(disk):
        return None
    disk.set("type", dest.type)
    for old in disk.findall("source") + disk.findall("backingStore"):
        disk.remove(old)
    driver = disk.find("driver")
    if driver is not None:
        driver.set("type", dest.format)
    source = ET.fromstring(dest.source_xml())
    children = list(disk)
    at = children.index(driver) + 1 if driver is not None else 0
    disk.insert(at, source)
    return ET.tostring(root, encoding="unicode")


def re_namespaces(xml: str) -> list[tuple[str, str]]:
    """xmlns:prefix="uri" declarations, so that a rewrite keeps the metadata's prefixes."""
    return re.findall(r'xmlns:([A-Za-z_][\w.-]*)="([^"]+)"', xml)
