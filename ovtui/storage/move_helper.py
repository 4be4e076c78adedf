"""The helper domain that copies a shut-off VM's disk onto an iSCSI LUN.

No libvirt pool makes a volume on a LUN from a file (iscsi-direct has no build-from), and the
engine need not reach the portal itself. So, as oVirt runs qemu-img on a host, ovtui runs QEMU
on the VM's host: a transient domain, started paused (it never executes a guest instruction)
and set to autodestroy (it goes when the engine's connection goes), holding the VM's disk, which
blockCopy mirrors onto the LUN; the pivot and a destroy end it. The VM itself is never started.
While the helper holds the image, QEMU's image lock keeps the VM from starting on it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import libvirt

from ovtui.fleet.reading import ENGINE_HELPER_PREFIX
from ovtui.storage.move_xml import find_disk

HELPER_DEV = "vda"
MEMORY_KIB = 32 * 1024


def helper_name(move_id: str) -> str:
    return f"{ENGINE_HELPER_PREFIX}{move_id}"  # the fleet does not count it as a VM


def helper_xml(name: str, vm_xml: str, target_dev: str) -> str:
    """A paused-only domain whose one disk is the VM's `target_dev` (as its inactive XML says),
    as vda. Pure."""
    disk = find_disk(vm_xml, target_dev)
    if disk is None:
        raise ValueError(f"the VM has no disk {target_dev}")
    for extra in ("address", "boot", "alias", "readonly", "shareable"):
        for child in disk.findall(extra):
            disk.remove(child)
    target = disk.find("target")
    assert target is not None
    target.attrib.clear()
    target.set("dev", HELPER_DEV)
    target.set("bus", "virtio")
    disk_text = ET.tostring(disk, encoding="unicode")
    return (
        f"<domain type='qemu'><name>{name}</name><memory unit='KiB'>{MEMORY_KIB}</memory>"
        "<vcpu>1</vcpu><os><type>hvm</type></os><on_poweroff>destroy</on_poweroff>"
        f"<on_crash>destroy</on_crash><devices>{disk_text}</devices></domain>"
    )


def start(conn: libvirt.virConnect, vm_uuid: str, target_dev: str, name: str) -> None:
    """Blocking: starts the helper (after destroying a leftover one of the same move)."""
    destroy(conn, name)
    vm_xml = conn.lookupByUUIDString(vm_uuid).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    flags = libvirt.VIR_DOMAIN_START_PAUSED | libvirt.VIR_DOMAIN_START_AUTODESTROY
    conn.createXML(helper_xml(name, vm_xml, target_dev), flags)


def lookup(conn: libvirt.virConnect, name: str) -> libvirt.virDomain | None:
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise


def destroy(conn: libvirt.virConnect, name: str) -> None:
    """Blocking: the helper is transient, so a destroy removes it; gone already is fine."""
    dom = lookup(conn, name)
    if dom is None:
        return
    try:
        dom.destroy()
    except libvirt.libvirtError as exc:
        gone = (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_OPERATION_INVALID)
        if exc.get_error_code() not in gone:
            raise
