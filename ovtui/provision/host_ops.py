"""Defining, starting and undefining provisioned VMs on one host. Blocking: run through
HostLink.call (the host's own threads, with the per-call timeout)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape

import libvirt

from ovtui.fleet.errors import is_no_domain

Op = Callable[[libvirt.virConnect], object]
_UNDEFINE = (
    libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
    | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
)


def virt_type(conn: libvirt.virConnect, configured: str) -> str:
    """The domain type to ask for: the test driver knows only `test`."""
    return "test" if conn.getType() == "Test" else configured


def define(conn: libvirt.virConnect, xml: str) -> str:
    return str(conn.defineXML(xml).UUIDString())


def start(conn: libvirt.virConnect, uuid: str) -> None:
    conn.lookupByUUIDString(uuid).create()


def inactive_xml(conn: libvirt.virConnect, uuid: str) -> str:
    dom = conn.lookupByUUIDString(uuid)
    return str(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE))


def snapshot_count(conn: libvirt.virConnect, uuid: str) -> int:
    try:
        return int(conn.lookupByUUIDString(uuid).snapshotNum(0))
    except libvirt.libvirtError:
        return 0  # the driver keeps no snapshots (or the VM is gone)


def undefine(conn: libvirt.virConnect, uuid: str) -> bool:
    """Stops (if it runs) and undefines; False when the host did not know it."""
    try:
        dom = conn.lookupByUUIDString(uuid)
    except libvirt.libvirtError as exc:
        if is_no_domain(exc):
            return False
        raise
    if dom.isActive():
        dom.destroy()
    try:
        dom.undefineFlags(_UNDEFINE)
    except libvirt.libvirtError:
        dom.undefine()  # a driver without those flags (the test driver refuses NVRAM)
    return True


def upload(conn: libvirt.virConnect, pool: str, name: str, data: bytes) -> str:
    """A raw volume holding `data` (a seed image). Returns its name."""
    return upload_from(conn, pool, name, io.BytesIO(data), len(data), "raw")


def upload_file(conn: libvirt.virConnect, pool: str, name: str, path: Path) -> str:
    """A qcow2 volume holding the file at `path` on the engine's machine (an imported disk)."""
    with open(path, "rb") as f:
        return upload_from(conn, pool, name, f, path.stat().st_size, "qcow2")


def upload_from(
    conn: libvirt.virConnect, pool: str, name: str, src: BinaryIO, size: int, fmt: str
) -> str:
    """A volume filled from `src` through libvirt's stream API, so the engine need not see the
    host's storage; removed again if the upload fails."""
    xml = (
        f"<volume><name>{escape(name)}</name><capacity unit='bytes'>{size}</capacity>"
        f"<allocation unit='bytes'>0</allocation><target><format type='{fmt}'/></target>"
        "</volume>"
    )
    p = conn.storagePoolLookupByName(pool)
    vol = p.createXML(xml, 0)
    stream = conn.newStream(0)
    try:
        vol.upload(stream, 0, size, 0)
        while chunk := src.read(1 << 20):
            view = memoryview(chunk)
            while view:
                sent = stream.send(bytes(view))
                view = view[sent:]
        stream.finish()
    except libvirt.libvirtError:
        stream.abort()
        vol.delete(0)
        raise
    p.refresh(0)  # a qcow2's capacity is in its header, read at refresh
    return str(vol.name())
