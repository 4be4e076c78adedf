"""Storage domains, disks and a VM's disk attachments, from ovtui's storage layer (the storage
service's cached readings and the disk service's listing; never a libvirt call per request).

A storage domain is read with inventory.read on its data center (lookup.storage_ref); a disk as
its storage domain. Lists show only what the caller may read.
"""

from __future__ import annotations

from typing import Annotated
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, HTTPException, Request

from auth.permissions import Permission
from auth.principal import visible
from ovtui.api.authz import Caller, engine_of, target_vm
from ovtui.api.lookup import storage_ref
from ovtui.api.ovirt import entities_storage as es
from ovtui.api.ovirt.authz import require
from ovtui.api.ovirt.common import listing, select
from ovtui.api.ovirt.entities import dc_id
from ovtui.api.ovirt.xml import BASE, Xml, respond
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.routes.storage import view
from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.engine import Engine
from ovtui.model import Disk

router = APIRouter(prefix="/api", route_class=RouterRoute)
Reader = Annotated[Caller, Depends(require(Permission.INVENTORY_READ, "list"))]
READ_SD = [Depends(require(Permission.INVENTORY_READ, "storage"))]
VmReader = Annotated[Caller, Depends(require(Permission.INVENTORY_READ, "vm"))]


def _my_domains(request: Request, caller: Caller) -> list[StorageDomainConfig]:
    return list(visible(caller.principal, engine_of(request).storage.domains(), storage_ref))


def _disks(engine: Engine, domains: list[StorageDomainConfig]) -> list[es.DiskRow]:
    types = {sd.name: sd.type for sd in domains}
    held = {
        (end.domain, end.volume)
        for m in engine.moves.all()
        if not m.finished
        for end in (m.source, m.dest)
    }
    return [
        es.DiskRow(r, types[r["domain"]] == "iscsi", (r["domain"], r["volume"]) in held)
        for r in engine.disks.listing()
        if r["domain"] in types
    ]


def _sd_el(engine: Engine, sd: StorageDomainConfig, disks: list[es.DiskRow]) -> ET.Element:
    committed = sum(d.row["capacity_bytes"] for d in disks if d.row["domain"] == sd.name)
    return es.storage_domain_xml(sd, view(engine, sd), committed)


def _sd_listing(request: Request, domains: list[StorageDomainConfig]) -> Xml:
    engine = engine_of(request)
    fields = {
        "name": lambda s: s.name,
        "datacenter": lambda s: s.datacenter,
        "type": lambda s: es.OVIRT_TYPE[s.type],
        "id": lambda s: es.sd_id(s.name),
    }
    mine = select(request, domains, fields)
    disks = _disks(engine, mine)
    return listing("storage_domains", (_sd_el(engine, sd, disks) for sd in mine))


@router.get("/storagedomains")
async def storage_domains(request: Request, caller: Reader) -> Xml:
    return _sd_listing(request, _my_domains(request, caller))


@router.get("/datacenters/{id}/storagedomains")
async def datacenter_storage(request: Request, caller: Reader, id: str) -> Xml:
    return _sd_listing(
        request, [sd for sd in _my_domains(request, caller) if dc_id(sd.datacenter) == id]
    )


@router.get("/storagedomains/{id}", dependencies=READ_SD)
async def storage_domain(request: Request, id: str) -> Xml:
    engine = engine_of(request)
    sd = engine.storage.domain(request.path_params["storage"])  # Require resolved it
    assert sd is not None
    return respond(_sd_el(engine, sd, _disks(engine, [sd])))


def _disk_listing(request: Request, disks: list[es.DiskRow]) -> Xml:
    fields = {
        "name": lambda d: d.row["name"],
        "alias": lambda d: d.row["name"],
        "storage": lambda d: d.row["domain"],
        "status": lambda d: "locked" if d.moving else "ok",
        "id": lambda d: d.id,
    }
    return listing("disks", (es.disk_xml(d) for d in select(request, disks, fields)))


@router.get("/storagedomains/{id}/disks", dependencies=READ_SD)
async def storage_domain_disks(request: Request, id: str) -> Xml:
    engine = engine_of(request)
    sd = engine.storage.domain(request.path_params["storage"])
    assert sd is not None
    return _disk_listing(request, _disks(engine, [sd]))


@router.get("/disks")
async def disks(request: Request, caller: Reader) -> Xml:
    return _disk_listing(request, _disks(engine_of(request), _my_domains(request, caller)))


@router.get("/disks/{id}")
async def disk(request: Request, caller: Reader, id: str) -> Xml:
    found = next(
        (d for d in _disks(engine_of(request), _my_domains(request, caller)) if d.id == id), None
    )
    if found is None:
        raise HTTPException(404, f"no disk with id {id!r} (list them: GET {BASE}/disks)")
    return respond(es.disk_xml(found))


def _attachments(request: Request, caller: Caller) -> list[tuple[str, Disk]]:
    """(disk ID, the VM's model.Disk) for each disk of the VM that lives on a storage domain
    the caller may read. CD-ROMs and disks outside every domain have no oVirt disk to link."""
    engine = engine_of(request)
    vm = target_vm(request)
    if vm.devices is None:
        raise HTTPException(503, f"the devices of {vm.name} are not read yet: try again shortly")
    mine = {sd.name for sd in _my_domains(request, caller)}
    rows = engine.disks.vm_disks(vm)
    out: list[tuple[str, Disk]] = []
    for disk, row in zip(vm.devices.disks, rows, strict=True):
        if disk.device == "disk" and row["domain"] in mine and row.get("volume"):
            out.append((es.disk_id(row["domain"], row["volume"]), disk))
    return out


@router.get("/vms/{id}/diskattachments")
async def disk_attachments(request: Request, caller: VmReader, id: str) -> Xml:
    vm = target_vm(request)
    found = _attachments(request, caller)
    return listing("disk_attachments", (es.attachment_xml(vm, d, i) for i, d in found))


@router.get("/vms/{id}/diskattachments/{attachment}")
async def disk_attachment(request: Request, caller: VmReader, id: str, attachment: str) -> Xml:
    hit = next((d for i, d in _attachments(request, caller) if i == attachment), None)
    if hit is None:
        raise HTTPException(404, f"no disk attachment with id {attachment!r} on this VM")
    return respond(es.attachment_xml(target_vm(request), hit, attachment))
