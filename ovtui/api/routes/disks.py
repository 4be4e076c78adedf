"""Disks: list, create, grow, delete on a storage domain; attach, detach and move on a VM.

Each change passes Require (RBAC: disk.manage on the domain, or on the VM) and Engine.perform
(audit), then ovtui.storage.disks.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from auth.permissions import Permission
from auth.principal import ObjectRef, visible
from ovtui.api.authz import Caller, Require, engine_of, target_vm
from ovtui.api.lookup import find_storage, storage_ref
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.errors import FLEET, documented
from ovtui.api.schemas.storage import (
    DiskAttached,
    DiskCreated,
    DiskGrown,
    DiskMoveOut,
    DiskMoveOutcome,
    DiskMoves,
    DiskRows,
    Done,
    VmDiskRows,
)
from ovtui.api.serialize import JSON
from ovtui.engine import Engine
from ovtui.provision import hooked
from ovtui.storage.move_model import DiskMove
from ovtui.storage.volume_xml import VolumeRequest

router = APIRouter(prefix="/api/v1", tags=["disks"], route_class=RouterRoute)
ON_DOMAIN = Require(Permission.DISK_MANAGE, target="storage")
ON_VM = Require(Permission.DISK_MANAGE, target="vm")
MAX_BYTES = 1 << 50  # 1 PiB: a typo guard, not a policy
DiskName = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]


class CreateDisk(BaseModel):
    name: DiskName
    size_bytes: Annotated[int, Field(gt=0, le=MAX_BYTES)]
    format: Literal["qcow2", "raw"] = "qcow2"
    allocation: Literal["thin", "preallocated"] = Field(
        "thin", description="thin: qcow2 thin / raw sparse; preallocated: every block reserved"
    )


class GrowDisk(BaseModel):
    size_bytes: Annotated[int, Field(gt=0, le=MAX_BYTES, description="the new, larger size")]


class AttachDisk(BaseModel):
    storage: Annotated[str, Field(min_length=1, description="the disk's storage domain")]
    disk: Annotated[str, Field(min_length=1, description="disk name (or volume name)")]


@router.get(
    "/disks",
    summary="Disks of every storage domain, with the VMs that use them",
    **documented(DiskRows),
)
async def disk_list(
    request: Request,
    caller: Annotated[Caller, Depends(Require(Permission.INVENTORY_READ, target="list"))],
    storage: str | None = None,
) -> JSON:
    engine = engine_of(request)
    mine = {sd.name for sd in visible(caller.principal, engine.storage.domains(), storage_ref)}
    rows = [r for r in engine.disks.listing(storage) if r["domain"] in mine]
    return JSON(rows)


@router.get(
    "/vms/{vm}/disks",
    dependencies=[Depends(Require(Permission.INVENTORY_READ, target="vm"))],
    summary="A VM's disks with their storage domain, format, capacity and allocation",
    **documented(VmDiskRows),
)
async def vm_disks(request: Request, vm: str) -> JSON:
    engine = engine_of(request)
    return JSON(engine.disks.vm_disks(target_vm(request)))


@router.post(
    "/storage/{storage}/disks",
    summary="Create a disk",
    description="400: the domain is iSCSI (its LUNs are made on the target); 409: the name is "
    "taken, or a preallocated disk does not fit.",
    **documented(DiskCreated, 400, *FLEET, status=201, description="Created"),
)
async def disk_create(
    request: Request,
    storage: str,
    body: CreateDisk,
    caller: Annotated[Caller, Depends(ON_DOMAIN)],
) -> dict[str, Any]:
    engine = engine_of(request)
    sd = find_storage(engine.storage, storage)
    req = VolumeRequest(body.name, body.size_bytes, body.format, body.allocation)

    async def run() -> dict[str, Any]:
        return await engine.disks.create(sd.name, req, caller.principal.name)

    params = body.model_dump()
    return await engine.perform(
        caller.principal, "disk.create", f"storage/{sd.name}", params, run, caller.source
    )


@router.post(
    "/storage/{storage}/disks/{disk}/grow",
    summary="Grow a disk (live if in use)",
    description="400: the size is not larger than the disk's; 409: a preallocated disk's growth "
    "does not fit.",
    **documented(DiskGrown, 400, *FLEET),
)
async def disk_grow(
    request: Request,
    storage: str,
    disk: str,
    body: GrowDisk,
    caller: Annotated[Caller, Depends(ON_DOMAIN)],
) -> dict[str, Any]:
    engine = engine_of(request)
    sd = find_storage(engine.storage, storage)

    async def run() -> dict[str, Any]:
        return await engine.disks.grow(sd.name, disk, body.size_bytes)

    return await engine.perform(
        caller.principal,
        "disk.grow",
        f"disk/{sd.name}/{disk}",
        body.model_dump(),
        run,
        caller.source,
    )


@router.delete(
    "/storage/{storage}/disks/{disk}",
    summary="Delete a disk no VM uses",
    description="409: a VM uses it; 503: the VMs of the domain's hosts are not all read yet.",
    **documented(Done, *FLEET),
)
async def disk_delete(
    request: Request,
    storage: str,
    disk: str,
    caller: Annotated[Caller, Depends(ON_DOMAIN)],
) -> dict[str, Any]:
    engine = engine_of(request)
    sd = find_storage(engine.storage, storage)

    async def run() -> dict[str, Any]:
        return await engine.disks.delete(sd.name, disk)

    return await engine.perform(
        caller.principal, "disk.delete", f"disk/{sd.name}/{disk}", {}, run, caller.source
    )


@router.post(
    "/vms/{vm}/disks",
    summary="Attach a disk (hot-plug, virtio, if the VM runs)",
    description="404: no such storage domain or disk; 409: the VM's host does not see the "
    "domain, or another VM uses the disk.",
    **documented(DiskAttached, *FLEET),
)
async def disk_attach(
    request: Request,
    vm: str,
    body: AttachDisk,
    caller: Annotated[Caller, Depends(ON_VM)],
) -> dict[str, Any]:
    engine = engine_of(request)
    target = target_vm(request)
    sd = find_storage(engine.storage, body.storage)

    async def run() -> dict[str, Any]:
        return await engine.disks.attach(target, sd.name, body.disk)

    return await engine.perform(
        caller.principal,
        "disk.attach",
        f"vm/{target.name}@{target.host}",
        {"uuid": target.uuid, **body.model_dump()},
        run,
        caller.source,
    )


@router.delete(
    "/vms/{vm}/disks/{target}",
    summary="Detach a disk (its guest device, e.g. vdb)",
    description="404: the VM has no such device; 400: it is not on an ovtui storage domain "
    "(ovtui detaches only its own).",
    **documented(Done, 400, *FLEET),
)
async def disk_detach(
    request: Request,
    vm: str,
    target: str,
    caller: Annotated[Caller, Depends(ON_VM)],
) -> dict[str, Any]:
    engine = engine_of(request)
    found = target_vm(request)

    async def run() -> dict[str, Any]:
        return await engine.disks.detach(found, target)

    return await engine.perform(
        caller.principal,
        "disk.detach",
        f"vm/{found.name}@{found.host}",
        {"uuid": found.uuid, "target": target},
        run,
        caller.source,
    )


class MoveDisk(BaseModel):
    storage: Annotated[str, Field(min_length=1, description="the storage domain to move to")]
    volume: str | None = Field(
        None, description="the target volume: required for an iSCSI domain (its LUN, unit:0:0:N)"
    )
    bandwidth_mib_s: Annotated[int, Field(ge=0, le=1 << 20)] = Field(
        0, description="limit the live copy to this many MiB/s (0: no limit)"
    )


@router.post(
    "/vms/{vm}/disks/{target}/move",
    summary="Move a VM's disk to another storage domain (live if the VM runs); waits for it",
    description="Stages are persisted; GET /api/v1/disk-moves shows progress while it runs. "
    "404: the VM has no such device, or no such storage domain; 400: the disk is not on an ovtui "
    "storage domain, is already on the target, or an iSCSI target needs `volume`; 409: the VM's "
    "host does not see the target, a disk of the VM is moving already, or the VM is neither "
    "running nor shut off.",
    **documented(DiskMoveOutcome, 400, *FLEET),
)
async def disk_move(
    request: Request,
    vm: str,
    target: str,
    body: MoveDisk,
    caller: Annotated[Caller, Depends(ON_VM)],
) -> dict[str, Any]:
    engine = engine_of(request)
    found = target_vm(request)

    async def run() -> dict[str, Any]:
        await hooked.refuse_only(  # provisioning's before_disk_move hooks may refuse
            engine.hooks, engine.fleet, "before_disk_move", found, caller.principal.name, "a move"
        )
        move = engine.moves.plan(
            found,
            target,
            body.storage,
            body.volume,
            caller.principal.name,
            body.bandwidth_mib_s << 20,
        )
        done = await engine.moves.run(move)
        how = "live" if done.live else "copied while shut off"
        return {
            "result": f"{found.name}'s {target} moved to {body.storage} ({how})",
            **done.as_dict(),
        }

    params = {"uuid": found.uuid, "target": target, **body.model_dump()}
    return await engine.perform(
        caller.principal, "disk.move", f"vm/{found.name}@{found.host}", params, run, caller.source
    )


def _move_ref(engine: Engine, move: DiskMove) -> ObjectRef:
    """A move is seen by whoever may read its VM (system-wide readers, once the VM is gone)."""
    vm = engine.snapshot().vm(move.vm_uuid)
    if vm is None:
        return ObjectRef("vm", move.vm)
    return ObjectRef("vm", vm.name, vm.datacenter, vm.cluster, vm.host)


@router.get(
    "/disk-moves",
    summary="Disk moves, running (with progress) and finished",
    **documented(DiskMoves),
)
async def disk_moves(
    request: Request,
    caller: Annotated[Caller, Depends(Require(Permission.INVENTORY_READ, target="list"))],
) -> JSON:
    engine = engine_of(request)
    moves = visible(caller.principal, engine.moves.all(), lambda m: _move_ref(engine, m))
    return JSON([m.as_dict() for m in moves])


@router.get(
    "/disk-moves/{move}",
    dependencies=[Depends(Require(Permission.INVENTORY_READ, target="move"))],
    summary="One disk move, with its stages and progress",
    **documented(DiskMoveOut),
)
async def disk_move_detail(request: Request, move: str) -> JSON:
    found: DiskMove = request.state.move  # resolved and authorised as its VM (api/authz.py)
    return JSON(found.as_dict())
