"""The single authorisation point: every route declares a Require(...) dependency.

Require authenticates the bearer token, resolves the target object from the path, asks
auth.principal.authorize, and audits refusals. Each declaration names its scope (TARGETS):
the object in the path, a list the route filters to what the caller may read, or the whole
system. tests/api/test_rbac_matrix.py fails for any route without one, and checks every GET
route for every role against an object inside and one outside a scoped grant.
It leaves the caller in request.state.caller, so that ovtui.api.refusal_audit names them when
the request is refused later on (404, 409, 422...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request

from auth.permissions import Permission
from auth.principal import FILTERED_LISTS, SYSTEM_REF, ObjectRef, Principal, authorize
from ovtui.api.lookup import find_host, find_vm, storage_ref
from ovtui.engine import Engine
from ovtui.model import VM

# What a route authorises on. "vm", "host", "cluster": the object its path names (a grant on
# it, or on something containing it, is needed). "list": the whole system, passed by any grant
# of the permission — the route must then answer only with what the caller may read
# (auth.principal.visible / may_read). "system": a system-wide role only. "storage": the storage
# domain its path names (inside its data center: a grant on that data center or system-wide).
# "move": the disk move its path names, read as its VM is. "template": the template its path
# names (inside its data center; Blank, in none, needs a system-wide grant to change).
# "datacenter": the data center its path names (its logical networks).
TARGETS = ("vm", "host", "cluster", "datacenter", "storage", "move", "template", "list", "system")


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    token: str
    source: str


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def source_of(request: Request) -> str:
    client = request.client
    return f"{client.host}:{client.port}" if client and client.host else "unix-socket"


def bearer_token(header: str) -> str:
    """The token of an 'Authorization: Bearer TOKEN' header; '' when there is none."""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _token(request: Request) -> str:
    token = bearer_token(request.headers.get("authorization", ""))
    if not token:
        raise HTTPException(
            401,
            "not signed in: send 'Authorization: Bearer TOKEN' "
            "(get one with POST /api/v1/sessions or `ovtui login`)",
        )
    return token


def vm_ref(vm: VM) -> ObjectRef:
    return ObjectRef("vm", vm.name, vm.datacenter, vm.cluster, vm.host)


def cluster_ref(name: str, datacenter: str) -> ObjectRef:
    return ObjectRef("cluster", name, datacenter, name)


def template_ref(template: dict[str, Any]) -> ObjectRef:
    """A template is inside its data center. Blank (built in, datacenter None) is the system's:
    anyone who may read the inventory reads it (as the list shows it), only system-wide roles
    change it."""
    if template["datacenter"] is None:
        return SYSTEM_REF
    return ObjectRef("template", template["name"], template["datacenter"])


def may_read(principal: Principal, ref: ObjectRef) -> bool:
    """Whether `principal` may read `ref` (what list routes and error messages show)."""
    return authorize(principal, Permission.INVENTORY_READ, ref)


def _target(request: Request, engine: Engine, kind: str | None, who: Principal) -> ObjectRef:
    # Error messages name only objects the caller may read: a 404 or 409 must not list the
    # clusters or VMs of someone else's scope.
    if kind == "vm":
        vm = find_vm(
            engine.snapshot(), request.path_params["vm"], lambda v: may_read(who, vm_ref(v))
        )
        request.state.vm = vm  # the route acts on this VM (see target_vm)
        return vm_ref(vm)
    if kind == "host":
        host = find_host(engine.snapshot(), request.path_params["host"])
        return ObjectRef("host", host.name, host.datacenter, host.cluster, host.name)
    if kind == "cluster":
        name = request.path_params["cluster"]
        cluster = next((c for c in engine.config.clusters if c.name == name), None)
        if cluster is None:
            mine = [c.name for c in engine.config.clusters
                    if may_read(who, cluster_ref(c.name, c.datacenter))]  # fmt: skip
            raise HTTPException(
                404,
                f"no cluster named {name!r} (clusters: {', '.join(mine) or 'none you may read'})",
            )
        return cluster_ref(cluster.name, cluster.datacenter)
    if kind == "datacenter":
        name = request.path_params["datacenter"]
        if name not in {d.name for d in engine.config.datacenters}:
            mine = [d.name for d in engine.config.datacenters
                    if may_read(who, ObjectRef("datacenter", d.name, d.name))]  # fmt: skip
            raise HTTPException(
                404,
                f"no data center named {name!r} "
                f"(data centers: {', '.join(mine) or 'none you may read'})",
            )
        return ObjectRef("datacenter", name, name)
    if kind == "storage":
        name = request.path_params["storage"]
        sd = engine.storage.domain(name)
        if sd is None:
            mine = [d.name for d in engine.storage.domains() if may_read(who, storage_ref(d))]
            raise HTTPException(
                404,
                f"no storage domain named {name!r} "
                f"(domains: {', '.join(mine) or 'none you may read'})",
            )
        return storage_ref(sd)
    if kind == "move":  # a disk move is read as its VM is
        move = engine.moves.get(request.path_params["move"])
        if move is None:
            raise HTTPException(
                404, f"no disk move {request.path_params['move']!r} (GET /api/v1/disk-moves)"
            )
        request.state.move = move
        moved = engine.snapshot().vm(move.vm_uuid)
        return vm_ref(moved) if moved is not None else ObjectRef("vm", move.vm)
    if kind == "template":
        name = request.path_params["template"]
        found = engine.provision.templates.get(name)
        if found is None:
            mine = [t["name"] for t in engine.provision.templates.all()
                    if may_read(who, template_ref(t))]  # fmt: skip
            raise HTTPException(
                404,
                f"no template named {name!r} (templates: {', '.join(mine) or 'none you may read'})",
            )
        return template_ref(found)
    return SYSTEM_REF


def target_vm(request: Request) -> VM:
    """The VM a Require(..., target="vm") resolved for this request (among those the caller
    may read, when a name is shared by VMs in different scopes)."""
    vm: VM = request.state.vm
    return vm


class Public:
    """Declares a route open to anyone (health, sign-in). Explicit, so the matrix test sees it."""

    permission = None

    async def __call__(self) -> None:
        return None


class Require:
    """Declares the permission a route needs (None = any signed-in user) and on what target."""

    def __init__(self, permission: Permission | None, *, target: str | None = None) -> None:
        if target is not None and target not in TARGETS:
            raise ValueError(f"target: unknown {target!r} (valid: {', '.join(TARGETS)})")
        if target == "system" and permission in FILTERED_LISTS:
            # authorize() lets any scoped holder of these through on the system: that is a list.
            raise ValueError(f'{permission} on the system is a filtered list: target="list"')
        if target == "list" and permission not in FILTERED_LISTS:
            raise ValueError(
                f'{permission} on the system needs a system-wide role: target="system"'
            )
        self.permission = permission
        self.target = target

    async def __call__(self, request: Request) -> Caller:
        engine = engine_of(request)
        token = _token(request)
        principal = engine.sessions.lookup(token)
        if principal is None:
            raise HTTPException(401, "session expired or signed out: sign in again")
        caller = Caller(principal, token, source_of(request))
        request.state.caller = caller
        if self.permission is None:
            return caller
        ref = _target(request, engine, self.target, principal)
        if not authorize(principal, self.permission, ref):
            # Blank is authorised on the system (template_ref) but audited as the template.
            audited = f"{ref.kind}/{ref.name}"
            if self.target == "template":
                audited = f"template/{request.path_params['template']}"
            engine.audit.record(
                actor=principal.name,
                actor_source=principal.source,
                action=self.permission.value,
                target=audited,
                result="denied",
                source=caller.source,
                detail="permission missing",
            )
            # Named as the caller named it: a UUID outside the grant must not reveal the name,
            # nor a disk move its VM.
            kind = {"move": "disk move", "template": "template"}.get(self.target or "", ref.kind)
            named = request.path_params.get(
                self.target or "", request.path_params.get(ref.kind, ref.name)
            )
            raise HTTPException(
                403,
                f"{principal.name} may not {self.permission.value} on {kind} "
                f"{named}: none of roles {sorted(principal.roles)} grants it",
            )
        return caller
