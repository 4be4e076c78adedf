"""ovtui's storage domains, disks and a VM's disk attachments as oVirt entities.

oVirt's storage `type` for each ovtui type is the one whose semantics it has, not the one it
looks like: shared_dir is a directory every host mounts at the same path (posixfs: ovtui does
not mount it, so not nfs), local is localfs, fs is a filesystem on a block device libvirt mounts
(posixfs, with the device as its path's source), iscsi is iscsi.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from ovtui.api.ovirt.entities import dc_id, host_id
from ovtui.api.ovirt.ids import stable_id
from ovtui.api.ovirt.xml import entity, link, rel_links, sub
from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.model import VM, Disk

OVIRT_TYPE = {"shared_dir": "posixfs", "local": "localfs", "fs": "posixfs", "iscsi": "iscsi"}
# ovtui's overall state -> (status, external_status). oVirt has no "degraded": the domain is
# active where its hosts can use it, and the external status warns that some cannot.
STATUS = {
    "active": ("active", "ok"),
    "degraded": ("active", "warning"),
    "unavailable": ("inactive", "error"),
}
INTERFACES = {"virtio": "virtio", "scsi": "virtio_scsi", "sata": "sata", "ide": "ide"}


def sd_id(name: str) -> str:
    return stable_id("storagedomain", name)


def disk_id(domain: str, volume: str) -> str:
    return stable_id("disk", f"{domain}/{volume}")


def storage_domain_xml(sd: StorageDomainConfig, view: dict[str, Any], committed: int) -> ET.Element:
    """`view`: ovtui.storage.views.domain_view; committed: the sum of its disks' sizes."""
    ident = sd_id(sd.name)
    el = entity("storage_domain", "storagedomains", ident)
    sub(el, "name", sd.name)
    sub(el, "description", "")
    sub(el, "comment", "")
    sub(el, "type", "data")
    status, external = STATUS[view["state"]]
    sub(el, "status", status)
    sub(el, "external_status", external)
    sub(el, "master", False)  # ovtui has no storage pool manager, so no master domain
    sub(el, "storage_format", "v5")
    if view["available_bytes"] is not None:  # unknown until a host read it: absent, not 0
        sub(el, "available", view["available_bytes"])
        sub(el, "used", view["allocation_bytes"])
    sub(el, "committed", committed)
    storage = sub(el, "storage")
    sub(storage, "type", OVIRT_TYPE[sd.type])
    if sd.type == "iscsi":
        assert sd.portal is not None
        address, _, port = sd.portal.rpartition(":")
        sub(storage, "address", address)
        sub(storage, "port", port)
        sub(storage, "target", sd.target)
    else:
        sub(storage, "path", sd.path)
        if sd.type == "fs":
            sub(storage, "vfs_type", sd.filesystem or "auto")
            sub(storage, "mount_options", f"device={sd.device}")
    dcs = sub(el, "data_centers")
    link(dcs, "data_center", "datacenters", dc_id(sd.datacenter))
    if len(view["hosts"]) == 1:  # local and fs domains live on one host
        link(el, "host", "hosts", host_id(view["hosts"][0]["host"]))
    rel_links(el, f"storagedomains/{ident}", "disks")
    return el


@dataclass(frozen=True, slots=True)
class DiskRow:
    """One row of ovtui.storage.disks.DiskService.listing, and whether a move holds it."""

    row: dict[str, Any]
    iscsi: bool
    moving: bool

    @property
    def id(self) -> str:
        return disk_id(self.row["domain"], self.row["volume"])


def disk_xml(d: DiskRow) -> ET.Element:
    row = d.row
    el = entity("disk", "disks", d.id)
    sub(el, "name", row["name"])
    sub(el, "alias", row["name"])
    sub(el, "description", "")
    sub(el, "provisioned_size", row["capacity_bytes"])
    sub(el, "actual_size", row["allocation_bytes"])
    sub(el, "total_size", row["allocation_bytes"])
    sub(el, "format", "cow" if row["format"] == "qcow2" else "raw")
    policy = row["allocation_policy"]
    if policy in ("thin", "preallocated"):  # unknown for volumes ovtui did not make
        sub(el, "sparse", policy == "thin")
    sub(el, "status", "locked" if d.moving else "ok")
    sub(el, "content_type", "data")
    sub(el, "storage_type", "lun" if d.iscsi else "image")
    sub(el, "shareable", False)
    sub(el, "wipe_after_delete", False)
    sub(el, "propagate_errors", False)
    domains = sub(el, "storage_domains")
    link(domains, "storage_domain", "storagedomains", sd_id(row["domain"]))
    return el


def bootable(vm: VM, disk: Disk) -> bool:
    """The first disk of the domain XML: libvirt's default boot disk (ovtui reads no
    per-device boot order)."""
    first = next((x for x in vm.devices.disks if x.device == "disk"), None) if vm.devices else None
    return first is not None and first.target == disk.target


def attachment_xml(vm: VM, disk: Disk, ident: str) -> ET.Element:
    """A VM's disk on a storage domain. As in oVirt the attachment's ID is its disk's."""
    el = entity("disk_attachment", f"vms/{vm.uuid}/diskattachments", ident)
    sub(el, "active", True)  # in the definition: ovtui has no unplugged disks
    sub(el, "bootable", bootable(vm, disk))
    if disk.bus in INTERFACES:  # usb and others have no oVirt DiskInterface: left out
        sub(el, "interface", INTERFACES[disk.bus])
    sub(el, "pass_discard", False)
    sub(el, "read_only", False)
    sub(el, "uses_scsi_reservation", False)
    link(el, "disk", "disks", ident)
    link(el, "vm", "vms", vm.uuid)
    return el
