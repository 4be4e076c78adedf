"""VM actions and migration. Each passes Require (RBAC) and Engine.perform (audit)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from auth.permissions import Permission
from ovtui.api.authz import Caller, Require, engine_of, target_vm
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.actions import MigrationOutcome, VmActionOutcome
from ovtui.api.schemas.errors import FLEET, documented

router = APIRouter(prefix="/api/v1", tags=["vm actions"], route_class=RouterRoute)
# Order matters: /migrate must be matched before the /{action} catch-all.


class PowerAction(StrEnum):
    start = "start"
    shutdown = "shutdown"
    poweroff = "poweroff"
    reboot = "reboot"
    suspend = "suspend"
    resume = "resume"


class MigrateRequest(BaseModel):
    target: Annotated[str, Field(min_length=1, max_length=64, description="destination host")]


@router.post(
    "/vms/{vm}/migrate",
    summary="Migrate (live where possible) to another host",
    **documented(MigrationOutcome, *FLEET),
)
async def vm_migrate(
    request: Request,
    vm: str,
    body: MigrateRequest,
    caller: Annotated[Caller, Depends(Require(Permission.VM_MIGRATE, target="vm"))],
) -> dict[str, Any]:
    engine = engine_of(request)
    target = target_vm(request)
    return await engine.migrate(caller.principal, target, body.target, caller.source)


@router.post(
    "/vms/{vm}/{action}",
    summary="Power action; waits for the outcome",
    **documented(VmActionOutcome, *FLEET),
)
async def vm_power(
    request: Request,
    vm: str,
    action: PowerAction,
    caller: Annotated[Caller, Depends(Require(Permission.VM_POWER, target="vm"))],
) -> dict[str, Any]:
    engine = engine_of(request)
    target = target_vm(request)
    return await engine.vm_action(caller.principal, target, action.value, caller.source)
