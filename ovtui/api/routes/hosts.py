"""Host actions: maintenance (evacuate, then flag) and activation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from auth.permissions import Permission
from ovtui.api.authz import Caller, Require, engine_of
from ovtui.api.lookup import find_host
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.actions import ActivateOutcome, MaintenanceOutcome
from ovtui.api.schemas.errors import documented

router = APIRouter(prefix="/api/v1", tags=["host actions"], route_class=RouterRoute)
Manage = Annotated[Caller, Depends(Require(Permission.HOST_MANAGE, target="host"))]


class MaintenanceRequest(BaseModel):
    reason: Annotated[str, Field(max_length=500)] = ""


@router.post(
    "/hosts/{host}/maintenance",
    summary="Move every VM off the host, then flag it",
    **documented(MaintenanceOutcome, 409),  # any move that fails is reported as one 409
)
async def host_maintenance(
    request: Request, host: str, body: MaintenanceRequest, caller: Manage
) -> dict[str, Any]:
    engine = engine_of(request)
    name = find_host(engine.snapshot(), host).name
    return await engine.enter_maintenance(caller.principal, name, body.reason, caller.source)


@router.post(
    "/hosts/{host}/activate",
    summary="Return a host from maintenance to service",
    **documented(ActivateOutcome),
)
async def host_activate(request: Request, host: str, caller: Manage) -> dict[str, Any]:
    engine = engine_of(request)
    name = find_host(engine.snapshot(), host).name
    return await engine.activate(caller.principal, name, caller.source)
