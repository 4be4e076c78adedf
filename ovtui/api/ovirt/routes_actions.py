"""VM actions (start, stop, shutdown, reboot, suspend, migrate), host deactivate/activate, and
PUT /vms/{id}. Each goes through Require and the engine's audited calls, as the native API."""

from __future__ import annotations

from typing import Annotated, Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, HTTPException, Request

from auth.permissions import Permission
from ovtui.api.authz import Caller, engine_of, target_vm
from ovtui.api.ovirt import body
from ovtui.api.ovirt import entities as ent
from ovtui.api.ovirt.authz import host_by_id, require
from ovtui.api.ovirt.common import inflight, started_at
from ovtui.api.ovirt.inflight import EVACUATING
from ovtui.api.ovirt.xml import Xml, action_complete, respond
from ovtui.api.routes.route_class import RouterRoute
from ovtui.engine import Engine
from ovtui.model import VM, Host, Snapshot, VmState
from policies.evacuation import evacuation_plan

router = APIRouter(prefix="/api", route_class=RouterRoute)
Power = Annotated[Caller, Depends(require(Permission.VM_POWER, "vm"))]
Migrate = Annotated[Caller, Depends(require(Permission.VM_MIGRATE, "vm"))]
Manage = Annotated[Caller, Depends(require(Permission.HOST_MANAGE, "host"))]
Read = Annotated[Caller, Depends(require(Permission.INVENTORY_READ, "vm"))]

# oVirt action -> (ovtui action, status shown while it runs)
POWER = {
    "stop": ("poweroff", "powering_down"),
    "shutdown": ("shutdown", "powering_down"),
    "reboot": ("reboot", "reboot_in_progress"),
    "suspend": ("suspend", "saving_state"),
}
IGNORED = {"async", "force", "filter", "reason", "grace_period"}  # no meaning on this engine


def _host_named(snap: Snapshot, el: ET.Element | None) -> Host | None:
    """<host id="…"/> or <host><name>X</name></host>; None when the body names no host."""
    if el is None:
        return None
    ident, name = el.get("id"), body.text(el, "name")
    found = host_by_id(snap, ident) if ident else (snap.host(name) if name else None)
    if found is None and (ident or name):
        raise HTTPException(404, f"no host {'with id ' + repr(ident) if ident else repr(name)}")
    return found


async def _run(request: Request, vm: VM, status: str, work: Any) -> Xml:
    await inflight(request).run("vm", vm.uuid, status, work)
    return action_complete()


@router.post("/vms/{id}/start")
async def vm_start(request: Request, id: str, caller: Power) -> Xml:
    vm = target_vm(request)
    action = await body.parse(request, "action")
    body.refuse_unknown(action, IGNORED | {"vm"}, "start")
    vm_el = action.find("vm")
    if vm_el is not None:
        body.refuse_unknown(vm_el, {"placement_policy"}, "start: vm")
        policy = vm_el.find("placement_policy")
        wanted = _host_named(
            engine_of(request).snapshot(), None if policy is None else policy.find("hosts/host")
        )
        if wanted is not None and wanted.name != vm.host:
            raise HTTPException(
                400,
                f"{vm.name} is defined on {vm.host}: this engine starts a VM where it is defined "
                f"(migrate it to {wanted.name} once it runs)",
            )
    what = "resume" if vm.state in (VmState.PAUSED, VmState.PMSUSPENDED) else "start"
    engine = engine_of(request)
    work = engine.vm_action(caller.principal, vm, what, caller.source)
    return await _run(request, vm, "powering_up", work)


@router.post("/vms/{id}/migrate")
async def vm_migrate(request: Request, id: str, caller: Migrate) -> Xml:
    vm = target_vm(request)
    engine = engine_of(request)
    snap = engine.snapshot()
    action = await body.parse(request, "action")
    body.refuse_unknown(action, IGNORED | {"host", "cluster"}, "migrate")
    cluster = action.find("cluster")
    if cluster is not None and cluster.get("id") not in (None, ent.cluster_id(vm.cluster)):
        raise HTTPException(400, f"{vm.name} can only move within its cluster {vm.cluster}")
    target = _host_named(snap, action.find("host"))
    name = target.name if target else _scheduler_choice(snap, vm)
    work = engine.migrate(caller.principal, vm, name, caller.source)
    return await _run(request, vm, "migrating", work)


def _scheduler_choice(snap: Snapshot, vm: VM) -> str:
    """No host named: the host the evacuation planner gives this VM (same filters and order)."""
    moves, stuck = evacuation_plan(snap, vm.host)
    move = next((m for m in moves if m.vm_uuid == vm.uuid), None)
    if move is None:
        why = next((s.reason for s in stuck if vm.name in s.reason), "no host fits it")
        raise HTTPException(409, f"{vm.name} cannot be migrated: {why}")
    return move.target


@router.post("/vms/{id}/{action}")
async def vm_power(request: Request, id: str, action: str, caller: Power) -> Xml:
    if action not in POWER:
        supported = ", ".join(sorted([*POWER, "start", "migrate"]))
        raise HTTPException(404, f"VM action {action!r} is not in this subset ({supported})")
    vm = target_vm(request)
    body.refuse_unknown(await body.parse(request, "action"), IGNORED, action)
    what, status = POWER[action]
    work = engine_of(request).vm_action(caller.principal, vm, what, caller.source)
    return await _run(request, vm, status, work)


@router.put("/vms/{id}")
async def vm_update(request: Request, id: str, caller: Read) -> Xml:
    """oVirt tooling sends the VM it wants; ovtui changes no VM definition through this API, so
    an update is answered only when it asks for what already is (a 400 names any difference)."""
    vm = target_vm(request)
    wanted = await body.parse(request, "vm")
    problems = _differences(engine_of(request), vm, wanted)
    if problems:
        raise HTTPException(
            400,
            f"this engine cannot change {vm.name} through the oVirt API: " + "; ".join(problems),
        )
    status = ent.vm_status(vm, inflight(request).vm_status(vm.uuid, vm.host, vm.active))
    return respond(ent.vm_xml(vm, status, started_at(request)))


def _differences(engine: Engine, vm: VM, wanted: ET.Element) -> list[str]:
    current = ent.vm_xml(vm, "", 0)
    out = []
    for el in wanted:
        if not body._meaningful(el):
            continue
        have = current.find(el.tag)
        if el.tag in ("cluster", "template", "host") and have is not None:
            if not _same_ref(
                el, have, {"cluster": vm.cluster, "template": "Blank", "host": vm.host}[el.tag]
            ):
                out.append(f"{el.tag} differs")
            continue
        if have is None or not _same(el, have):
            out.append(f"{el.tag} {'differs' if have is not None else 'not supported'}")
    return out


def _same_ref(el: ET.Element, have: ET.Element, name: str) -> bool:
    ident, wanted_name = el.get("id"), body.text(el, "name")
    return (ident is None or ident == have.get("id")) and wanted_name in (None, name)


def _same(el: ET.Element, have: ET.Element) -> bool:
    """Every leaf in `el` equals the same leaf in `have` (what `el` leaves out is kept)."""
    if len(el) == 0:
        return (el.text or "").strip() == (have.text or "").strip()
    for child in el:
        match = have.find(child.tag)
        if match is None or not _same(child, match):
            return False
    return True


@router.post("/hosts/{id}/deactivate")
async def host_deactivate(request: Request, id: str, caller: Manage) -> Xml:
    engine = engine_of(request)
    host = host_by_id(engine.snapshot(), id)
    assert host is not None  # Require resolved it
    action = await body.parse(request, "action")
    body.refuse_unknown(action, IGNORED | {"stop_gluster_service"}, "deactivate")
    reason = body.text(action, "reason") or "oVirt API: deactivate"
    work = engine.enter_maintenance(caller.principal, host.name, reason, caller.source)
    await inflight(request).run("host", host.name, EVACUATING, work)
    return action_complete()


@router.post("/hosts/{id}/activate")
async def host_activate(request: Request, id: str, caller: Manage) -> Xml:
    engine = engine_of(request)
    host = host_by_id(engine.snapshot(), id)
    assert host is not None
    body.refuse_unknown(await body.parse(request, "action"), IGNORED, "activate")
    await engine.activate(caller.principal, host.name, caller.source)
    return action_complete()
