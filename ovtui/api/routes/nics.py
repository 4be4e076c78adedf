"""A VM's NICs: add (MAC from its data center's pool), remove, link up/down; the MAC pools.

Registered before ovtui.api.routes.vms, whose POST /vms/{vm}/{action} would take /nics.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from auth.permissions import Permission
from auth.principal import ObjectRef, visible
from ovtui.api.authz import Caller, Require, engine_of, may_read, target_vm, vm_ref
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.derive import list_of
from ovtui.api.schemas.errors import FLEET, documented
from ovtui.api.schemas.nics import MacPool, NicAdd, NicLink, NicOutcome
from ovtui.api.serialize import JSON
from ovtui.engine import nics
from ovtui.fleet import mac_pool

router = APIRouter(prefix="/api/v1", tags=["networks"], route_class=RouterRoute)
NicCaller = Annotated[Caller, Depends(Require(Permission.VM_NETWORK, target="vm"))]
Reader = Annotated[Caller, Depends(Require(Permission.INVENTORY_READ, target="list"))]


@router.post(
    "/vms/{vm}/nics",
    summary="Plug a NIC on a logical network (hot-plugged on a running VM)",
    **documented(NicOutcome, 400, *FLEET),
)
async def nic_add(request: Request, vm: str, body: NicAdd, caller: NicCaller) -> dict[str, Any]:
    params = {"network": body.network, "model": body.model}
    if body.mac is not None:
        params["mac"] = body.mac
    engine = engine_of(request)
    return await nics.change(
        engine, caller.principal, target_vm(request), "add", params, caller.source
    )


@router.delete(
    "/vms/{vm}/nics/{mac}",
    summary="Unplug a NIC (hot-unplugged on a running VM)",
    **documented(NicOutcome, 400, *FLEET),
)
async def nic_remove(request: Request, vm: str, mac: str, caller: NicCaller) -> dict[str, Any]:
    engine = engine_of(request)
    params = {"mac": mac}
    return await nics.change(
        engine, caller.principal, target_vm(request), "remove", params, caller.source
    )


@router.post(
    "/vms/{vm}/nics/{mac}/link",
    summary="Set a NIC's link up or down (the guest sees the cable (un)plugged)",
    **documented(NicOutcome, 400, *FLEET),
)
async def nic_link(
    request: Request, vm: str, mac: str, body: NicLink, caller: NicCaller
) -> dict[str, Any]:
    engine = engine_of(request)
    params = {"mac": mac, "state": body.state}
    return await nics.change(
        engine, caller.principal, target_vm(request), "link", params, caller.source
    )


@router.get(
    "/mac-pools",
    summary="Each data center's MAC pool: size, addresses in use, and clashes in the fleet",
    **documented(list_of(MacPool)),
)
async def mac_pools(request: Request, caller: Reader) -> JSON:
    engine = engine_of(request)
    snap = engine.snapshot()
    dcs = visible(
        caller.principal, snap.datacenters, lambda d: ObjectRef("datacenter", d.name, d.name)
    )
    used = mac_pool.macs_in_use(snap)
    out = []
    for dc in dcs:
        ranges = mac_pool.pool_ranges(engine.config, dc.name)
        # Only VMs the caller may read are named (a clash with an unseen VM shows as a count).
        mine = {
            v.name
            for v in snap.vms
            if v.datacenter == dc.name and may_read(caller.principal, vm_ref(v))
        }
        out.append(
            {
                "datacenter": dc.name,
                "ranges": mac_pool.pool_texts(engine.config, dc.name),
                "size": sum(hi - lo + 1 for lo, hi in ranges),
                "used": sum(1 for m in used if mac_pool.in_pool(ranges, m)),
                "clashes": [
                    {"mac": m, "vms": [v for v in vms if v in mine]}
                    for m, vms in sorted(mac_pool.clashes(snap).items())
                    if mine & set(vms)
                ],
            }
        )
    return JSON(out)
