"""Read-only inventory: data centers, clusters, hosts and VMs, with filters."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from auth.permissions import Permission
from ovtui import __version__
from ovtui.api.authz import Public, Require, engine_of
from ovtui.api.lookup import find_host, find_vm
from ovtui.api.serialize import JSON, to_dict
from ovtui.model import HostState, VmState

router = APIRouter(prefix="/api/v1", tags=["inventory"], default_response_class=JSON)
READ = [Depends(Require(Permission.INVENTORY_READ))]


@router.get("/health", dependencies=[Depends(Public())], summary="Liveness and fleet summary")
async def health(request: Request) -> JSON:
    snap = engine_of(request).snapshot()
    up = sum(1 for h in snap.hosts if h.state == HostState.UP)
    return JSON(
        {
            "status": "ok",
            "version": __version__,
            "hosts": len(snap.hosts),
            "hosts_up": up,
            "time": time.time(),
        }
    )


@router.get("/datacenters", dependencies=READ)
async def datacenters(request: Request) -> JSON:
    return JSON([to_dict(d) for d in engine_of(request).snapshot().datacenters])


@router.get("/clusters", dependencies=READ)
async def clusters(request: Request, datacenter: str | None = None) -> JSON:
    items = engine_of(request).snapshot().clusters
    return JSON([to_dict(c) for c in items if datacenter in (None, c.datacenter)])


@router.get("/hosts", dependencies=READ, summary="Hosts, optionally filtered")
async def hosts(
    request: Request,
    cluster: str | None = None,
    datacenter: str | None = None,
    state: HostState | None = None,
) -> JSON:
    out = [
        to_dict(h)
        for h in engine_of(request).snapshot().hosts
        if cluster in (None, h.cluster)
        and datacenter in (None, h.datacenter)
        and state in (None, h.state)
    ]
    return JSON(out)


@router.get(
    "/hosts/{host}", dependencies=[Depends(Require(Permission.INVENTORY_READ, target="host"))]
)
async def host_detail(request: Request, host: str) -> JSON:
    snap = engine_of(request).snapshot()
    found = find_host(snap, host)
    return JSON({**to_dict(found), "vms": [to_dict(v) for v in snap.vms_on(found.name)]})


@router.get("/vms", dependencies=READ, summary="VMs, optionally filtered")
async def vms(
    request: Request,
    host: str | None = None,
    cluster: str | None = None,
    datacenter: str | None = None,
    state: VmState | None = None,
    name: Annotated[str | None, Query(description="substring of the VM name")] = None,
) -> JSON:
    out = [
        to_dict(v)
        for v in engine_of(request).snapshot().vms
        if host in (None, v.host)
        and cluster in (None, v.cluster)
        and datacenter in (None, v.datacenter)
        and state in (None, v.state)
        and (name is None or name in v.name)
    ]
    return JSON(out)


@router.get("/vms/{vm}", dependencies=[Depends(Require(Permission.INVENTORY_READ, target="vm"))])
async def vm_detail(request: Request, vm: str) -> JSON:
    return JSON(to_dict(find_vm(engine_of(request).snapshot(), vm)))
