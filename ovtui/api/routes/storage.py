"""Storage domains: per domain and per host state, capacity, allocation and available space.

Read from the storage service's cached readings (ovtui.storage.service), never from libvirt.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from auth.permissions import Permission
from auth.principal import visible
from ovtui.api.authz import Caller, Require, engine_of
from ovtui.api.lookup import find_storage, storage_ref
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.errors import documented
from ovtui.api.schemas.storage import StorageDomain, StorageDomains, StorageRefreshed
from ovtui.api.serialize import JSON
from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.engine import Engine
from ovtui.storage.views import domain_view

router = APIRouter(
    prefix="/api/v1", tags=["storage"], default_response_class=JSON, route_class=RouterRoute
)
READ = Require(Permission.INVENTORY_READ, target="list")  # lists what the caller may read


def view(engine: Engine, sd: StorageDomainConfig) -> dict[str, Any]:
    svc = engine.storage
    return domain_view(sd, [svc.reading(sd.name, h) for h in svc.hosts(sd.name)])


@router.get(
    "/storage",
    summary="Storage domains, each with its state on every host",
    **documented(StorageDomains),
)
async def storage_list(
    request: Request,
    caller: Annotated[Caller, Depends(READ)],
    datacenter: str | None = None,
) -> JSON:
    engine = engine_of(request)
    mine = visible(caller.principal, engine.storage.domains(), storage_ref)
    return JSON([view(engine, sd) for sd in mine if datacenter in (None, sd.datacenter)])


@router.get(
    "/storage/{storage}",
    dependencies=[Depends(Require(Permission.INVENTORY_READ, target="storage"))],
    summary="One storage domain, with its state on every host",
    **documented(StorageDomain),
)
async def storage_detail(request: Request, storage: str) -> JSON:
    engine = engine_of(request)
    return JSON(view(engine, find_storage(engine.storage, storage)))


@router.post(
    "/storage/{storage}/refresh",
    summary="Realise and read the domain's pool on each of its hosts now",
    description="Defines, builds, starts and refreshes what is missing (as the engine does on "
    "its own every refresh_seconds); returns the fresh readings (a host where it failed is in "
    "state error, with why).",
    **documented(StorageRefreshed),
)
async def storage_refresh(
    request: Request,
    storage: str,
    caller: Annotated[Caller, Depends(Require(Permission.STORAGE_MANAGE, target="storage"))],
) -> dict[str, Any]:
    engine = engine_of(request)
    sd = find_storage(engine.storage, storage)

    async def run() -> dict[str, Any]:
        hosts = engine.storage.hosts(sd.name)
        readings = await asyncio.gather(*(engine.storage.refresh(sd.name, h) for h in hosts))
        bad = [r for r in readings if not r.usable]
        summary = f"{len(readings) - len(bad)} of {len(readings)} hosts active"
        return {"result": summary, **view(engine, sd)}

    return await engine.perform(
        caller.principal, "storage.refresh", f"storage/{sd.name}", {}, run, caller.source
    )
