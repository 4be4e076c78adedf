"""Volumes provisioning makes: a full copy of a volume, or a thin qcow2 overlay on one.
Blocking: run through HostLink.call. The XML is pure (tested); libvirt does the copying
(virStorageVolCreateXMLFrom runs qemu-img convert on file pools)."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import libvirt

from ovtui.storage import volumes
from ovtui.storage.model import VolumeInfo
from ovtui.storage.pools import lookup_pool


def copy_xml(name: str, fmt: str, capacity: int) -> str:
    return (
        f"<volume><name>{escape(name)}</name><capacity unit='bytes'>{capacity}</capacity>"
        f"<allocation unit='bytes'>0</allocation>"
        f"<target><format type={quoteattr(fmt)}/></target></volume>"
    )


def overlay_xml(name: str, capacity: int, backing_path: str, backing_fmt: str) -> str:
    """A qcow2 volume whose unwritten blocks are read from `backing_path` (never written)."""
    return (
        f"<volume><name>{escape(name)}</name><capacity unit='bytes'>{capacity}</capacity>"
        "<allocation unit='bytes'>0</allocation><target><format type='qcow2'/></target>"
        f"<backingStore><path>{escape(backing_path)}</path>"
        f"<format type={quoteattr(backing_fmt)}/></backingStore></volume>"
    )


def copy(conn: libvirt.virConnect, domain: str, src_volume: str, name: str, fmt: str) -> VolumeInfo:
    src = volumes.volume(conn, domain, src_volume)
    _type, capacity, _alloc = src.info()
    return volumes.info(
        lookup_pool(conn, domain).createXMLFrom(copy_xml(name, fmt, capacity), src, 0)
    )


def overlay(
    conn: libvirt.virConnect, domain: str, src_volume: str, name: str, backing_fmt: str
) -> VolumeInfo:
    src = volumes.volume(conn, domain, src_volume)
    _type, capacity, _alloc = src.info()
    xml = overlay_xml(name, capacity, src.path(), backing_fmt)
    return volumes.info(lookup_pool(conn, domain).createXML(xml, 0))
