"""VM snapshots: list (inventory.read); take, revert, delete (vm.snapshot on the VM). Changes
pass Require and Engine.perform (audit), then ovtui.provision.snapshots."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from auth.permissions import Permission
from ovtui.api.authz import Caller, Require, engine_of
from ovtui.api.lookup import find_vm
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.errors import FLEET, documented
from ovtui.api.schemas.text import Description, XmlName

router = APIRouter(prefix="/api/v1", tags=["snapshots"], route_class=RouterRoute)
ON_VM = Require(Permission.VM_SNAPSHOT, target="vm")


class Snapshot(BaseModel):
    name: str
    description: str
    created_at: int = Field(description="unix time")
    vm_state: str = Field(description="the VM's state when it was taken")
    memory: bool = Field(description="it holds the running VM's memory (revert resumes it)")
    parent: str | None
    current: bool


class TakeSnapshot(BaseModel):
    name: XmlName
    description: Description = ""
    memory: bool = Field(False, description="also save a running VM's memory")


class Done(BaseModel):
    result: str


@router.get(
    "/vms/{vm}/snapshots",
    dependencies=[Depends(Require(Permission.INVENTORY_READ, target="vm"))],
    summary="A VM's snapshots, oldest first",
    **documented(list[Snapshot], *FLEET),
)
async def snapshot_list(request: Request, vm: str) -> list[Snapshot]:
    engine = engine_of(request)
    rows = await engine.provision.snapshots.listing(find_vm(engine.snapshot(), vm))
    return [Snapshot.model_validate(r) for r in rows]


async def _act(
    request: Request, caller: Caller, vm: str, action: str, params: dict[str, Any], how: Any
) -> Done:
    engine = engine_of(request)
    target = find_vm(engine.snapshot(), vm)

    async def run() -> dict[str, Any]:
        out: dict[str, Any] = await how(engine.provision.snapshots, target)
        return out

    out = await engine.perform(
        caller.principal,
        action,
        f"vm/{target.name}@{target.host}",
        {"uuid": target.uuid, **params},
        run,
        caller.source,
    )
    return Done.model_validate(out)


@router.post(
    "/vms/{vm}/snapshots",
    summary="Take a snapshot (qcow2 disks)",
    description="400: a disk is raw (named), or memory asked of a VM that does not run; "
    "409: the name is taken.",
    **documented(Done, 400, *FLEET, status=201, description="Created"),
)
async def snapshot_take(
    request: Request, vm: str, body: TakeSnapshot, caller: Annotated[Caller, Depends(ON_VM)]
) -> Done:
    return await _act(
        request,
        caller,
        vm,
        "vm.snapshot",
        body.model_dump(),
        lambda s, t: s.create(t, body.name, body.description, body.memory),
    )


@router.post(
    "/vms/{vm}/snapshots/{snapshot}/revert",
    summary="Revert the VM to a snapshot",
    description="400: the VM has no such snapshot.",
    **documented(Done, 400, *FLEET),
)
async def snapshot_revert(
    request: Request, vm: str, snapshot: str, caller: Annotated[Caller, Depends(ON_VM)]
) -> Done:
    return await _act(
        request,
        caller,
        vm,
        "vm.snapshot_revert",
        {"snapshot": snapshot},
        lambda s, t: s.revert(t, snapshot),
    )


@router.delete(
    "/vms/{vm}/snapshots/{snapshot}",
    summary="Delete a snapshot",
    description="400: the VM has no such snapshot.",
    **documented(Done, 400, *FLEET),
)
async def snapshot_delete(
    request: Request, vm: str, snapshot: str, caller: Annotated[Caller, Depends(ON_VM)]
) -> Done:
    return await _act(
        request,
        caller,
        vm,
        "vm.snapshot_delete",
        {"snapshot": snapshot},
        lambda s, t: s.delete(t, snapshot),
    )
