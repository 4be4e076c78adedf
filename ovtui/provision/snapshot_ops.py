"""VM snapshots on one host (libvirt internal snapshots: qcow2 disks, memory optional).
Blocking: run through HostLink.call."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from xml.sax.saxutils import escape

import libvirt

SEED_SUFFIX = "-seed.iso"  # provision/service.py names cloud-init seed volumes so


def snapshot_xml(
    name: str, description: str, memory: bool, running: bool, skip: tuple[str, ...] = ()
) -> str:
    """Internal snapshot of every disk; with memory (a running VM's RAM and device state) or
    without (`<memory snapshot='no'/>`: the disks as they are, crash-consistent)."""
    mem = "internal" if memory and running else "no"
    # read-only seeds (raw) hold nothing to snapshot
    disks = "".join(f"<disk name='{t}' snapshot='no'/>" for t in skip)
    disks = f"<disks>{disks}</disks>" if disks else ""
    return (
        f"<domainsnapshot><name>{escape(name)}</name>"
        f"<description>{escape(description)}</description>"
        f"<memory snapshot='{mem}'/>{disks}</domainsnapshot>"
    )


def describe(snap: libvirt.virDomainSnapshot, current: str | None) -> dict[str, Any]:
    root = ET.fromstring(snap.getXMLDesc(0))
    mem = root.find("memory")
    parent = root.findtext("parent/name")
    return {
        "name": root.findtext("name") or snap.getName(),
        "description": root.findtext("description") or "",
        "created_at": int(root.findtext("creationTime") or 0),
        "vm_state": root.findtext("state") or "",
        "memory": mem is not None and mem.get("snapshot") == "internal",
        "parent": parent,
        "current": snap.getName() == current,
    }


def listing(conn: libvirt.virConnect, uuid: str) -> list[dict[str, Any]]:
    dom = conn.lookupByUUIDString(uuid)
    current = None
    if dom.hasCurrentSnapshot(0):
        current = dom.snapshotCurrent(0).getName()
    # parents before children, then by time: two taken within one second keep their order
    found = [
        describe(s, current)
        for s in dom.listAllSnapshots(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL)
    ]
    return sorted(found, key=lambda s: s["created_at"])


def create(
    conn: libvirt.virConnect,
    uuid: str,
    name: str,
    description: str,
    memory: bool,
    skip: tuple[str, ...] = (),
) -> None:
    dom = conn.lookupByUUIDString(uuid)
    xml = snapshot_xml(name, description, memory, bool(dom.isActive()), skip)
    dom.snapshotCreateXML(xml, 0)


def revert(conn: libvirt.virConnect, uuid: str, name: str) -> None:
    dom = conn.lookupByUUIDString(uuid)
    dom.revertToSnapshot(dom.snapshotLookupByName(name, 0), 0)


def delete(conn: libvirt.virConnect, uuid: str, name: str) -> None:
    dom = conn.lookupByUUIDString(uuid)
    dom.snapshotLookupByName(name, 0).delete(0)
