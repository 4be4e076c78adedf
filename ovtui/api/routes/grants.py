"""Grants: which group or user holds which role, where. Changes apply at the next sign-in.

Grants from the config file are listed (origin "config") but changed only in the file; grants
made here are kept in the engine's store. Every change is audited.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from tinydb import where

from auth.grants import Grant, GrantError
from auth.permissions import ROLES, Permission
from auth.principal import SCOPES
from ovtui.api.authz import Caller, Require, engine_of
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.access import GrantChanged, GrantOut
from ovtui.api.schemas.errors import documented
from ovtui.engine.signin import GRANTS_TABLE
from ovtui.model import Snapshot

router = APIRouter(prefix="/api/v1", tags=["grants"], route_class=RouterRoute)
Manage = Annotated[Caller, Depends(Require(Permission.PERMISSIONS_MANAGE, target="system"))]
EFFECTIVE = "at the next sign-in of the users concerned"


class GrantRequest(BaseModel):
    group: Annotated[str | None, Field(max_length=1024, description="a group DN")] = None
    user: Annotated[str | None, Field(max_length=256)] = None
    # Checked by Grant (400 naming the valid values), so the enums are declared for the schema.
    role: Annotated[str, Field(max_length=64, json_schema_extra={"enum": list(ROLES)})]
    scope: Annotated[str, Field(max_length=16, json_schema_extra={"enum": list(SCOPES)})] = "system"
    object: Annotated[
        str, Field(max_length=256, description='the scope\'s object ("" for scope system)')
    ] = ""


def _check_object(snap: Snapshot, scope: str, name: str) -> None:
    names = {
        "datacenter": {d.name for d in snap.datacenters},
        "cluster": {c.name for c in snap.clusters},
        "host": {h.name for h in snap.hosts},
        "vm": {v.name for v in snap.vms},
    }.get(scope)
    if names is not None and name not in names:
        raise HTTPException(400, f"object: no {scope} named {name!r} in the fleet")


@router.get(
    "/grants",
    summary="Every grant: from the config file and from this API",
    **documented(list[GrantOut]),
)
async def list_grants(request: Request, _caller: Manage) -> list[dict[str, Any]]:
    return [g.as_dict() for g in engine_of(request).signin.grants.all()]


@router.post(
    "/grants",
    summary="Grant a role to a group or user at a scope",
    **documented(GrantChanged, 400, status=201, description="Granted"),
)
async def add_grant(request: Request, body: GrantRequest, caller: Manage) -> dict[str, Any]:
    engine = engine_of(request)
    try:
        grant = Grant(
            body.role,
            body.scope,
            body.object,
            group=body.group,
            user=body.user,
            id=secrets.token_hex(6),
            origin="api",
            created_by=caller.principal.name,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
    except GrantError as exc:
        raise HTTPException(400, f"invalid grant: {exc}") from None
    _check_object(engine.snapshot(), grant.scope, grant.object)
    record = grant.as_dict()

    async def run() -> dict[str, Any]:
        engine.store.table(GRANTS_TABLE).insert({k: v for k, v in record.items() if k != "origin"})
        return {**record, "result": f"granted; effective {EFFECTIVE}"}

    return await engine.perform(
        caller.principal, "grants.add", f"grant/{grant.id}", record, run, caller.source
    )


@router.delete(
    "/grants/{grant_id}",
    summary="Withdraw a grant made through the API",
    **documented(GrantChanged, 409),
)
async def delete_grant(request: Request, grant_id: str, caller: Manage) -> dict[str, Any]:
    engine = engine_of(request)
    found = next((g for g in engine.signin.grants.all() if g.id == grant_id), None)
    if found is None:
        raise HTTPException(404, f"no grant with id {grant_id!r} (list them: GET /api/v1/grants)")
    if found.origin == "config":
        raise HTTPException(
            409, f"grant {grant_id} comes from the config file [[auth.grants]]: change it there"
        )
    record = found.as_dict()

    async def run() -> dict[str, Any]:
        engine.store.table(GRANTS_TABLE).remove(where("id") == grant_id)
        return {**record, "result": f"withdrawn; effective {EFFECTIVE}"}

    return await engine.perform(
        caller.principal, "grants.delete", f"grant/{grant_id}", record, run, caller.source
    )
