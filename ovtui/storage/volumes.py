"""Volume and VM-disk operations on one host. Blocking: run through HostLink.call."""

from __future__ import annotations

import libvirt

from ovtui.storage.model import VolumeInfo
from ovtui.storage.pools import lookup_pool
from ovtui.storage.volume_xml import VolumeRequest, volume_xml

LIVE_AND_CONFIG = libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG


def info(vol: libvirt.virStorageVol) -> VolumeInfo:
    _type, capacity, allocation = vol.info()
    return VolumeInfo(vol.name(), vol.path(), capacity, allocation)


def create(conn: libvirt.virConnect, domain: str, req: VolumeRequest) -> VolumeInfo:
    pool = lookup_pool(conn, domain)
    xml, flags = volume_xml(req)
    vol = pool.createXML(xml, flags)
    return info(vol)


def volume(conn: libvirt.virConnect, domain: str, name: str) -> libvirt.virStorageVol:
    return lookup_pool(conn, domain).storageVolLookupByName(name)


def grow(conn: libvirt.virConnect, domain: str, name: str, size: int, allocate: bool) -> VolumeInfo:
    vol = volume(conn, domain, name)
    vol.resize(size, libvirt.VIR_STORAGE_VOL_RESIZE_ALLOCATE if allocate else 0)
    return info(vol)


def grow_live(
    conn: libvirt.virConnect, domain: str, name: str, vm_uuid: str, target: str, size: int
) -> VolumeInfo:
    """A disk a running VM holds open: QEMU resizes it (and the guest sees the new size)."""
    dom = conn.lookupByUUIDString(vm_uuid)
    dom.blockResize(target, size, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
    return info(volume(conn, domain, name))


def delete(conn: libvirt.virConnect, domain: str, name: str) -> None:
    volume(conn, domain, name).delete(0)


def delete_if_there(conn: libvirt.virConnect, domain: str, name: str) -> None:
    """A failed copy's target: libvirt may have removed it already (a failed build-from)."""
    pool = lookup_pool(conn, domain)
    pool.refresh(0)
    try:
        vol = pool.storageVolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
            return
        raise
    vol.delete(0)


def attach(
    conn: libvirt.virConnect,
    vm_uuid: str,
    xml: str,
    live: bool,
    volume_of: tuple[str, str] | None = None,
) -> None:
    """volume_of: (domain, volume) the disk XML names. A volume made through another host a
    moment ago (a shared domain) is unknown to this host's pool until it is refreshed, and
    libvirt resolves pool/volume from that list: refreshed here, in the same call."""
    dom = conn.lookupByUUIDString(vm_uuid)
    if volume_of is not None:
        pool = lookup_pool(conn, volume_of[0])
        try:
            pool.storageVolLookupByName(volume_of[1])
        except libvirt.libvirtError:
            pool.refresh(0)
    dom.attachDeviceFlags(xml, LIVE_AND_CONFIG if live else libvirt.VIR_DOMAIN_AFFECT_CONFIG)


def detach(conn: libvirt.virConnect, vm_uuid: str, xml: str, live: bool) -> None:
    dom = conn.lookupByUUIDString(vm_uuid)
    dom.detachDeviceFlags(xml, LIVE_AND_CONFIG if live else libvirt.VIR_DOMAIN_AFFECT_CONFIG)
