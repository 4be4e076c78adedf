"""Lists and single objects: vms, hosts, clusters, datacenters, templates, storagedomains, disks,
and the sub-collections oVirt tooling reads. Lists show only what the caller may read."""

from __future__ import annotations

from typing import Annotated, Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, HTTPException, Request

from auth.permissions import Permission
from auth.principal import ObjectRef, visible
from ovtui import __version__
from ovtui.api.authz import Caller, engine_of, target_vm, template_ref
from ovtui.api.ovirt import entities as ent
from ovtui.api.ovirt.authz import host_by_id, require
from ovtui.api.ovirt.common import inflight, listing, select, started_at
from ovtui.api.ovirt.ids import BLANK_TEMPLATE_ID
from ovtui.api.ovirt.search import Field
from ovtui.api.ovirt.xml import BASE, Xml, link, respond, sub
from ovtui.api.routes.route_class import RouterRoute
from ovtui.model import VM, Cluster, DataCenter, Host, Nic, Snapshot

router = APIRouter(prefix="/api", route_class=RouterRoute)
Reader = Annotated[Caller, Depends(require(Permission.INVENTORY_READ, "list"))]
SignedIn = Annotated[Caller, Depends(require(None))]
READ_VM = [Depends(require(Permission.INVENTORY_READ, "vm"))]
READ_HOST = [Depends(require(Permission.INVENTORY_READ, "host"))]
ROOT_LINKS = ("vms", "hosts", "clusters", "datacenters", "templates", "storagedomains", "disks",
              "events")  # fmt: skip


def _vm_ref(v: VM) -> ObjectRef:
    return ObjectRef("vm", v.name, v.datacenter, v.cluster, v.host)


def _host_ref(h: Host) -> ObjectRef:
    return ObjectRef("host", h.name, h.datacenter, h.cluster, h.name)


def _cluster_ref(c: Cluster) -> ObjectRef:
    return ObjectRef("cluster", c.name, c.datacenter, c.name)


def _dc_ref(d: DataCenter) -> ObjectRef:
    return ObjectRef("datacenter", d.name, d.name)


def _made_from(request: Request) -> dict[str, str]:
    """VM UUID -> the template ovtui made it from (VMs ovtui did not make are Blank's)."""
    definitions = engine_of(request).provision.definitions.all()
    return {d["uuid"]: d.get("template") or "Blank" for d in definitions}


def _vm_el(request: Request, vm: VM, made: dict[str, str] | None = None) -> ET.Element:
    status = ent.vm_status(vm, inflight(request).vm_status(vm.uuid, vm.host, vm.active))
    made = _made_from(request) if made is None else made
    return ent.vm_xml(vm, status, started_at(request), made.get(vm.uuid, "Blank"))


def _host_status(request: Request, host: Host) -> str:
    return inflight(request).status("host", host.name) or ent.HOST_STATUS[host.state]


def _host_el(request: Request, snap: Snapshot, host: Host) -> ET.Element:
    flights = inflight(request)
    moving = sum(
        1
        for v in snap.vms_on(host.name)
        if flights.vm_status(v.uuid, v.host, v.active) == "migrating"
    )
    return ent.host_xml(host, snap, _host_status(request, host), moving)


@router.get("")
async def api_root(request: Request, caller: SignedIn) -> Xml:
    snap = engine_of(request).snapshot()
    root = ET.Element("api")
    for rel in ROOT_LINKS:
        ET.SubElement(root, "link", {"href": f"{BASE}/{rel}", "rel": rel})
    ET.SubElement(root, "link", {"href": f"{BASE}/vms?search={{query}}", "rel": "vms/search"})
    info = sub(root, "product_info")
    sub(info, "name", "ovtui (oVirt-compatible API subset)")
    sub(info, "vendor", "ovtui")
    version = sub(info, "version")
    sub(version, "major", 4)
    sub(version, "minor", 5)
    sub(version, "build", 0)
    sub(version, "revision", 0)
    sub(version, "full_version", f"4.5.0 (ovtui {__version__})")
    special = sub(root, "special_objects")
    link(special, "blank_template", "templates", BLANK_TEMPLATE_ID)
    summary = sub(root, "summary")
    for tag, total, active in (
        ("hosts", len(snap.hosts), sum(1 for h in snap.hosts if h.state.value == "up")),
        ("vms", len(snap.vms), sum(1 for v in snap.vms if v.active)),
    ):
        el = sub(summary, tag)
        sub(el, "active", active)
        sub(el, "total", total)
    sub(root, "authenticated_user").set("id", caller.principal.name)
    return respond(root)


# -- VMs -------------------------------------------------------------------------------------------
@router.get("/vms")
async def vms(request: Request, caller: Reader) -> Xml:
    snap = engine_of(request).snapshot()
    flights = inflight(request)
    fields = {
        "name": lambda v: v.name,
        "cluster": lambda v: v.cluster,
        "host": lambda v: v.host if v.active else None,
        "datacenter": lambda v: v.datacenter,
        "status": lambda v: ent.vm_status(v, flights.vm_status(v.uuid, v.host, v.active)),
        "id": lambda v: v.uuid,
    }
    mine = select(request, visible(caller.principal, snap.vms, _vm_ref), fields)
    made = _made_from(request)
    return listing("vms", (_vm_el(request, v, made) for v in mine))


@router.get("/vms/{id}", dependencies=READ_VM)
async def vm(request: Request, id: str) -> Xml:
    return respond(_vm_el(request, target_vm(request)))


def _nics(request: Request) -> list[tuple[VM, Nic, int]]:
    vm = target_vm(request)
    if vm.devices is None:  # read from the domain XML once per VM, soon after it is seen
        raise HTTPException(503, f"the devices of {vm.name} are not read yet: try again shortly")
    return [(vm, nic, i) for i, nic in enumerate(vm.devices.nics, start=1)]


@router.get("/vms/{id}/nics", dependencies=READ_VM)
async def vm_nics(request: Request, id: str) -> Xml:
    return listing("nics", (ent.nic_xml(*n) for n in _nics(request)))


@router.get("/vms/{id}/nics/{nic}", dependencies=READ_VM)
async def vm_nic(request: Request, id: str, nic: str) -> Xml:
    found = next((n for n in _nics(request) if ent.nic_id(n[0].uuid, n[1].mac) == nic), None)
    if found is None:
        raise HTTPException(404, f"no NIC with id {nic!r} on this VM")
    return respond(ent.nic_xml(*found))


@router.get("/vms/{id}/{collection}", dependencies=READ_VM)
async def vm_subcollection(id: str, collection: str) -> Xml:
    return _empty(ent.VM_SUBCOLLECTIONS, "vm", collection)


VM_SERVED = ("nics", "diskattachments")  # routes of their own (diskattachments: routes_storage)


def _empty(served: dict[str, str], kind: str, collection: str) -> Xml:
    tag = served.get(collection)
    if tag is None:
        raise HTTPException(
            404,
            f"/{kind}s/{{id}}/{collection} is not in ovtui's oVirt API subset "
            f"(served: {', '.join(sorted([*served, *(VM_SERVED if kind == 'vm' else [])]))})",
        )
    return listing(tag, ())


# -- hosts -----------------------------------------------------------------------------------------
@router.get("/hosts")
async def hosts(request: Request, caller: Reader) -> Xml:
    snap = engine_of(request).snapshot()
    fields = {
        "name": lambda h: h.name,
        "cluster": lambda h: h.cluster,
        "datacenter": lambda h: h.datacenter,
        "status": lambda h: _host_status(request, h),
        "id": lambda h: ent.host_id(h.name),
    }
    mine = select(request, visible(caller.principal, snap.hosts, _host_ref), fields)
    return listing("hosts", (_host_el(request, snap, h) for h in mine))


@router.get("/hosts/{id}", dependencies=READ_HOST)
async def host(request: Request, id: str) -> Xml:
    snap = engine_of(request).snapshot()
    found = host_by_id(snap, id)
    assert found is not None  # Require resolved it
    return respond(_host_el(request, snap, found))


@router.get("/hosts/{id}/{collection}", dependencies=READ_HOST)
async def host_subcollection(id: str, collection: str) -> Xml:
    return _empty(ent.HOST_SUBCOLLECTIONS, "host", collection)


# -- clusters, data centers, templates -------------------------------------------------------------
def _my_clusters(request: Request, caller: Caller) -> list[Cluster]:
    return list(visible(caller.principal, engine_of(request).snapshot().clusters, _cluster_ref))


def _my_cluster(request: Request, caller: Caller, ident: str) -> Cluster:
    found = next(
        (c for c in _my_clusters(request, caller) if ent.cluster_id(c.name) == ident), None
    )
    if found is None:
        raise HTTPException(404, f"no cluster with id {ident!r} (list them: GET {BASE}/clusters)")
    return found


@router.get("/clusters")
async def clusters(request: Request, caller: Reader) -> Xml:
    fields = {
        "name": lambda c: c.name,
        "datacenter": lambda c: c.datacenter,
        "id": lambda c: ent.cluster_id(c.name),
    }
    mine = select(request, _my_clusters(request, caller), fields)
    return listing("clusters", (ent.cluster_xml(c) for c in mine))


@router.get("/clusters/{id}")
async def cluster(request: Request, caller: Reader, id: str) -> Xml:
    return respond(ent.cluster_xml(_my_cluster(request, caller, id)))


def _groups(request: Request, caller: Caller, cluster: Cluster) -> dict[str, tuple[str, bool]]:
    """Affinity group ID -> (name, positive), from the VMs of the cluster the caller may read."""
    out: dict[str, tuple[str, bool]] = {}
    snap = engine_of(request).snapshot()
    for v in visible(caller.principal, snap.vms, _vm_ref):
        if v.cluster != cluster.name:
            continue
        for name, positive in ((v.affinity_group, True), (v.anti_affinity_group, False)):
            if name:
                out[ent.affinity_group_id(cluster.name, name, positive)] = (name, positive)
    return out


@router.get("/clusters/{id}/affinitygroups")
async def affinity_groups(request: Request, caller: Reader, id: str) -> Xml:
    found = _my_cluster(request, caller, id)
    groups = sorted(_groups(request, caller, found).values())
    return listing("affinity_groups", (ent.affinity_group_xml(found.name, n, p) for n, p in groups))


@router.get("/clusters/{id}/affinitygroups/{group}")
async def affinity_group(request: Request, caller: Reader, id: str, group: str) -> Xml:
    found = _my_cluster(request, caller, id)
    name, positive = _group(request, caller, found, group)
    return respond(ent.affinity_group_xml(found.name, name, positive))


def _group(request: Request, caller: Caller, cluster: Cluster, group: str) -> tuple[str, bool]:
    hit = _groups(request, caller, cluster).get(group)
    if hit is None:
        raise HTTPException(404, f"no affinity group with id {group!r} in {cluster.name}")
    return hit


@router.get("/clusters/{id}/affinitygroups/{group}/vms")
async def affinity_group_vms(request: Request, caller: Reader, id: str, group: str) -> Xml:
    found = _my_cluster(request, caller, id)
    name, positive = _group(request, caller, found, group)
    snap = engine_of(request).snapshot()
    members = [
        v
        for v in visible(caller.principal, snap.vms, _vm_ref)
        if v.cluster == found.name
        and (v.affinity_group if positive else v.anti_affinity_group) == name
    ]
    return listing("vms", (_vm_el(request, v) for v in members))


def _my_dcs(request: Request, caller: Caller) -> list[DataCenter]:
    return list(visible(caller.principal, engine_of(request).snapshot().datacenters, _dc_ref))


@router.get("/datacenters")
async def datacenters(request: Request, caller: Reader) -> Xml:
    fields = {"name": lambda d: d.name, "id": lambda d: ent.dc_id(d.name)}
    mine = select(request, _my_dcs(request, caller), fields)
    return listing("data_centers", (ent.datacenter_xml(d) for d in mine))


@router.get("/datacenters/{id}")
async def datacenter(request: Request, caller: Reader, id: str) -> Xml:
    found = next((d for d in _my_dcs(request, caller) if ent.dc_id(d.name) == id), None)
    if found is None:
        raise HTTPException(
            404, f"no data center with id {id!r} (list them: GET {BASE}/datacenters)"
        )
    return respond(ent.datacenter_xml(found))


@router.get("/datacenters/{id}/clusters")
async def datacenter_clusters(request: Request, caller: Reader, id: str) -> Xml:
    mine = [c for c in _my_clusters(request, caller) if ent.dc_id(c.datacenter) == id]
    return listing("clusters", (ent.cluster_xml(c) for c in mine))


def _my_templates(request: Request, caller: Caller) -> list[dict[str, Any]]:
    """Blank and ovtui's templates, those in data centers the caller may read (as natively)."""
    return list(
        visible(caller.principal, engine_of(request).provision.templates.all(), template_ref)
    )


@router.get("/templates")
async def templates(request: Request, caller: Reader) -> Xml:
    # `vm.name=X`: the template VM X was made from (Blank for VMs ovtui did not make).
    made = _made_from(request)
    snap = engine_of(request).snapshot()
    readable = list(visible(caller.principal, snap.vms, _vm_ref))
    fields: dict[str, Field[dict[str, Any]]] = {
        "name": lambda t: t["name"],
        "id": lambda t: ent.template_id(t["name"]),
        # ovirt_vm looks a template up by name in the cluster's data center; Blank is in all.
        "datacenter": lambda t: t["datacenter"] or [d.name for d in snap.datacenters],
        "vm.name": lambda t: [v.name for v in readable if made.get(v.uuid, "Blank") == t["name"]],
    }
    mine = select(request, _my_templates(request, caller), fields)
    return listing("templates", (ent.template_xml(t) for t in mine))


@router.get("/templates/{id}")
async def template(request: Request, caller: Reader, id: str) -> Xml:
    mine = _my_templates(request, caller)
    found = next((t for t in mine if ent.template_id(t["name"]) == id), None)
    if found is None:
        names = ", ".join(t["name"] for t in mine)
        raise HTTPException(404, f"no template with id {id!r} (templates: {names})")
    return respond(ent.template_xml(found))
