"""Read-only inventory: data centers, clusters, hosts and VMs, with filters."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from auth.permissions import Permission
from auth.principal import ObjectRef, visible
from ovtui import __version__
from ovtui.api.authz import Caller, Public, Require, engine_of, may_read, target_vm
from ovtui.api.lookup import find_host
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.derive import list_of
from ovtui.api.schemas.errors import documented
from ovtui.api.schemas.inventory import (
    ClusterOut,
    DataCenterOut,
    Health,
    HostDetail,
    HostOut,
    VmChangesOut,
    VmDetail,
    VmOut,
)
from ovtui.api.serialize import JSON, to_dict, vm_with_devices
from ovtui.api.vm_changes import EXACT, PERCENT, START, BadRevision, Precision, VmChanges
from ovtui.model import VM, Host, HostState, VmState

router = APIRouter(
    prefix="/api/v1", tags=["inventory"], default_response_class=JSON, route_class=RouterRoute
)
READ = [Depends(Require(Permission.INVENTORY_READ, target="list"))]
# The same dependency as READ (evaluated once per request): lists show only what the caller
# may read (auth.principal.visible), so a grant on one cluster shows that cluster's objects.
Reader = Annotated[Caller, READ[0]]


def _host_ref(h: Host) -> ObjectRef:
    return ObjectRef("host", h.name, h.datacenter, h.cluster, h.name)


def _vm_ref(v: VM) -> ObjectRef:
    return ObjectRef("vm", v.name, v.datacenter, v.cluster, v.host)


@router.get(
    "/health",
    dependencies=[Depends(Public())],
    summary="Liveness and fleet summary",
    **documented(Health),
)
async def health(request: Request) -> JSON:
    engine = engine_of(request)
    snap = engine.snapshot()
    up = sum(1 for h in snap.hosts if h.state == HostState.UP)
    return JSON(
        {
            "status": "ok",
            "version": __version__,
            "hosts": len(snap.hosts),
            "hosts_up": up,
            "hosts_read": sum(1 for h in snap.hosts if h.last_seen is not None),
            "vms_config_pending": sum(h.vms_config_pending for h in snap.hosts),
            "time": time.time(),
            "exporter_port": engine.exporter_port,  # where /metrics is (null: not serving)
        }
    )


@router.get("/datacenters", dependencies=READ, **documented(list_of(DataCenterOut)))
async def datacenters(request: Request, caller: Reader) -> JSON:
    items = engine_of(request).snapshot().datacenters
    mine = visible(caller.principal, items, lambda d: ObjectRef("datacenter", d.name, d.name))
    return JSON([to_dict(d) for d in mine])


@router.get("/clusters", dependencies=READ, **documented(list_of(ClusterOut)))
async def clusters(request: Request, caller: Reader, datacenter: str | None = None) -> JSON:
    items = engine_of(request).snapshot().clusters
    mine = visible(
        caller.principal, items, lambda c: ObjectRef("cluster", c.name, c.datacenter, c.name)
    )
    return JSON([to_dict(c) for c in mine if datacenter in (None, c.datacenter)])


@router.get(
    "/hosts",
    dependencies=READ,
    summary="Hosts, optionally filtered",
    **documented(list_of(HostOut)),
)
async def hosts(
    request: Request,
    caller: Reader,
    cluster: str | None = None,
    datacenter: str | None = None,
    state: HostState | None = None,
) -> JSON:
    out = [
        to_dict(h)
        for h in visible(caller.principal, engine_of(request).snapshot().hosts, _host_ref)
        if cluster in (None, h.cluster)
        and datacenter in (None, h.datacenter)
        and state in (None, h.state)
    ]
    return JSON(out)


@router.get(
    "/hosts/{host}",
    dependencies=[Depends(Require(Permission.INVENTORY_READ, target="host"))],
    summary="One host, with the VMs it runs",
    **documented(HostDetail),
)
async def host_detail(request: Request, host: str) -> JSON:
    snap = engine_of(request).snapshot()
    found = find_host(snap, host)
    return JSON({**to_dict(found), "vms": [to_dict(v) for v in snap.vms_on(found.name)]})


@router.get(
    "/vms",
    dependencies=READ,
    summary="VMs, optionally filtered; or only those changed since a revision",
    description="Each VM's fields; its disks and NICs are in GET /api/v1/vms/{vm} only. "
    f"With `since` (not combined with filters), an object instead of a list: the VMs changed "
    f"or added since that revision, the UUIDs of those removed, and the revision to send next "
    f"time; `since={START}`, or a revision the engine can no longer answer from (too old, an "
    f"engine restarted since, the caller's grants changed), gives every VM with full=true. "
    f"With `precision={PERCENT}` too, a VM whose cpu_usage moved within its whole percent "
    f"(and nothing else) does not count as changed.",
    **documented(list_of(VmOut) | VmChangesOut),
)
async def vms(
    request: Request,
    caller: Reader,
    host: str | None = None,
    cluster: str | None = None,
    datacenter: str | None = None,
    state: VmState | None = None,
    name: Annotated[str | None, Query(description="substring of the VM name")] = None,
    since: Annotated[
        str | None,
        Query(
            description=f"the `revision` of the last answer (opaque), or {START!r}: answer "
            "with what changed since"
        ),
    ] = None,
    precision: Annotated[
        Precision,
        Query(
            description=f"with `since`, what counts as a change: {EXACT!r} (the default) any "
            f"field; {PERCENT!r} cpu_usage only once it differs at a whole percent (rounded "
            "half to even) from what was last sent, other fields exactly. For clients that "
            "show CPU at whole percents, under load that moves every running VM at each "
            "reading. The VMs sent carry exact figures either way; the revisions of one "
            "precision are not answered from at the other (full=true)"
        ),
    ] = EXACT,
) -> JSON:
    snap = engine_of(request).snapshot()
    if since is None and precision != EXACT:
        raise HTTPException(
            422, f"precision={precision} applies to since=...: add since={START}, or drop it"
        )
    if since is not None:
        filters = {"host": host, "cluster": cluster, "datacenter": datacenter, "state": state}
        used = [k for k, v in {**filters, "name": name}.items() if v is not None]
        if used:
            raise HTTPException(
                422,
                f"since cannot be combined with {', '.join(used)}: the changes are those of "
                "the whole list; filter the VMs you keep, or drop since for a filtered list",
            )
        return _changes(request, caller, since, precision)
    out = [
        to_dict(v)
        for v in visible(caller.principal, snap.vms, _vm_ref)
        if host in (None, v.host)
        and cluster in (None, v.cluster)
        and datacenter in (None, v.datacenter)
        and state in (None, v.state)
        and (name is None or name in v.name)
    ]
    return JSON(out)


def _changes(request: Request, caller: Caller, since: str, precision: Precision) -> JSON:
    tracker: VmChanges = request.app.state.vm_changes
    tracker.observe(engine_of(request).snapshot())
    who = caller.principal
    try:
        got = tracker.since(
            since,
            who,
            lambda ref: may_read(who, ref),
            lambda vms: visible(who, vms, _vm_ref),
            precision,
        )
    except BadRevision as e:
        raise HTTPException(422, str(e)) from None
    return JSON(
        {
            "revision": got.revision,
            "full": got.full,
            "vms": [to_dict(v) for v in got.vms],
            "removed": list(got.removed),
        }
    )


@router.get(
    "/vms/{vm}",
    dependencies=[Depends(Require(Permission.INVENTORY_READ, target="vm"))],
    summary="One VM, by UUID or unique name, with its disks and NICs",
    **documented(VmDetail),
)
async def vm_detail(request: Request, vm: str) -> JSON:
    return JSON(vm_with_devices(target_vm(request)))
