"""Logical networks: their settings and their state on every host of their clusters; defining,
attaching and deleting them in a data center (network.manage, audited; ovtui.engine.network_defs
keeps them in the store). Networks of ovtui.toml are read here and changed there."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import ValidationError

from auth.permissions import Permission
from auth.principal import ObjectRef, visible
from ovtui.api.authz import Caller, Require, engine_of, may_read
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.derive import list_of
from ovtui.api.schemas.errors import FLEET, documented
from ovtui.api.schemas.networks import (
    NetworkChanged,
    NetworkClusters,
    NetworkCreate,
    NetworkDeleted,
    NetworkOut,
)
from ovtui.api.serialize import JSON, network_dict
from ovtui.config.network_schema import NetworkConfig
from ovtui.engine import Engine
from ovtui.model import Network

router = APIRouter(
    prefix="/api/v1", tags=["networks"], default_response_class=JSON, route_class=RouterRoute
)
Reader = Annotated[Caller, Depends(Require(Permission.INVENTORY_READ, target="list"))]
Manager = Annotated[Caller, Depends(Require(Permission.NETWORK_MANAGE, target="datacenter"))]
NETWORK = "/datacenters/{datacenter}/networks/{network}"


def _view(engine: Engine, caller: Caller, net: Network) -> dict[str, Any]:
    """The network with its state on each host of its clusters that the caller may read."""
    hosts = []
    for h in engine.snapshot().hosts:
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
    source = engine.networks.source(net.datacenter, net.name)
    return {**network_dict(net), "source": source, "hosts": hosts}


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
    engine = engine_of(request)
    mine = visible(
        caller.principal,
        engine.snapshot().networks,
        lambda n: ObjectRef("datacenter", n.datacenter, n.datacenter),
    )
    return JSON(
        [
            _view(engine, caller, net)
            for net in mine
            if datacenter in (None, net.datacenter) and name in (None, net.name)
        ]
    )


def _shown(engine: Engine, caller: Caller, datacenter: str, name: str) -> dict[str, Any]:
    snap = engine.snapshot()
    net = next(n for n in snap.networks if (n.datacenter, n.name) == (datacenter, name))
    return _view(engine, caller, net)


@router.post(
    "/datacenters/{datacenter}/networks",
    summary="Define a logical network in a data center",
    description="Every host of the clusters it is attached to checks for its bridge from its "
    "next read on, as for a network of ovtui.toml (a required one missing past the grace "
    "period makes the host non_operational). 409: the name or the bridge is taken in the "
    "data center. VLAN and bond settings are accepted but UNTESTED.",
    **documented(NetworkChanged, 400, 409, status=201, description="Created"),
)
async def network_create(
    request: Request, datacenter: str, body: NetworkCreate, caller: Manager
) -> dict[str, Any]:
    engine = engine_of(request)
    try:
        net = NetworkConfig.model_validate({**body.model_dump(), "datacenter": datacenter})
    except ValidationError as exc:  # the data center's name does not fit a network's
        raise HTTPException(422, str(exc)) from None

    async def run() -> dict[str, Any]:
        out = engine.networks.create(net, caller.principal.name)
        return {**out, "network": _shown(engine, caller, datacenter, net.name)}

    params = body.model_dump(mode="json")
    target = f"datacenter/{datacenter}/network/{net.name}"
    return await engine.perform(
        caller.principal, "network.create", target, params, run, caller.source
    )


@router.put(
    f"{NETWORK}/clusters",
    summary="Attach the network to exactly these clusters (required or optional)",
    description="409: the network is defined in ovtui.toml, or VMs of a cluster it would leave "
    "have NICs on it. 503: some VMs' NICs are not read yet.",
    **documented(NetworkChanged, 400, *FLEET),
)
async def network_clusters(
    request: Request, datacenter: str, network: str, body: NetworkClusters, caller: Manager
) -> dict[str, Any]:
    engine = engine_of(request)

    async def run() -> dict[str, Any]:
        out = engine.networks.attach(datacenter, network, body.clusters, engine.snapshot())
        return {**out, "network": _shown(engine, caller, datacenter, network)}

    return await engine.perform(
        caller.principal,
        "network.attach",
        f"datacenter/{datacenter}/network/{network}",
        body.model_dump(mode="json"),
        run,
        caller.source,
    )


@router.delete(
    NETWORK,
    summary="Delete a logical network no cluster and no VM NIC uses",
    description="409: it is defined in ovtui.toml, still attached to clusters, or VMs have NICs "
    "on it. 503: some VMs' NICs are not read yet.",
    **documented(NetworkDeleted, *FLEET),
)
async def network_delete(
    request: Request, datacenter: str, network: str, caller: Manager
) -> dict[str, Any]:
    engine = engine_of(request)

    async def run() -> dict[str, Any]:
        return engine.networks.delete(datacenter, network, engine.snapshot())

    return await engine.perform(
        caller.principal,
        "network.delete",
        f"datacenter/{datacenter}/network/{network}",
        {},
        run,
        caller.source,
    )
