"""Logical networks: their settings and their state on every host of their clusters (read-only;
networks are defined in ovtui.toml)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from auth.permissions import Permission
from auth.principal import ObjectRef, visible
from ovtui.api.authz import Caller, Require, engine_of, may_read
from ovtui.api.schemas.derive import list_of
from ovtui.api.schemas.errors import documented
from ovtui.api.schemas.networks import NetworkOut
from ovtui.api.serialize import JSON, network_dict

router = APIRouter(prefix="/api/v1", tags=["networks"], default_response_class=JSON)
Reader = Annotated[Caller, Depends(Require(Permission.INVENTORY_READ, target="list"))]


@router.get(
    "/networks",
    summary="Logical networks and their state on each host, optionally filtered",
    **documented(list_of(NetworkOut)),
)
async def networks(
    request: Request,
    caller: Reader,
    datacenter: str | None = None,
    name: str | None = None,
) -> JSON:
    snap = engine_of(request).snapshot()
    mine = visible(
        caller.principal,
        snap.networks,
        lambda n: ObjectRef("datacenter", n.datacenter, n.datacenter),
    )
    out = []
    for net in mine:
        if datacenter not in (None, net.datacenter) or name not in (None, net.name):
            continue
        hosts = []
        for h in snap.hosts:
            ref = ObjectRef("host", h.name, h.datacenter, h.cluster, h.name)
            if h.cluster not in net.clusters or not may_read(caller.principal, ref):
                continue
            for hn in h.networks:
                if hn.name == net.name:
                    hosts.append(
                        {
                            "host": h.name,
                            "cluster": h.cluster,
                            "required": hn.required,
                            "state": hn.state.value,
                            "missing_since": hn.missing_since,
                            "mtu": hn.mtu,
                        }
                    )
        out.append({**network_dict(net), "hosts": hosts})
    return JSON(out)
