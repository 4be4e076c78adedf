"""The single authorisation point: every route declares a Require(...) dependency.

Require authenticates the bearer token, resolves the target object from the path, asks
auth.principal.authorize, and audits refusals. tests/api/test_rbac_matrix.py fails for any
route without a declaration.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request

from auth.permissions import Permission
from auth.principal import SYSTEM_REF, ObjectRef, Principal, authorize
from ovtui.api.lookup import find_host, find_storage, find_vm, storage_ref
from ovtui.engine import Engine


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


def _token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            401,
            "not signed in: send 'Authorization: Bearer TOKEN' "
            "(get one with POST /api/v1/sessions or `ovtui login`)",
        )
    return token.strip()


def _target(request: Request, engine: Engine, kind: str | None) -> ObjectRef:
    if kind == "vm":
        vm = find_vm(engine.snapshot(), request.path_params["vm"])
        return ObjectRef("vm", vm.name, vm.datacenter, vm.cluster, vm.host)
    if kind == "host":
        host = find_host(engine.snapshot(), request.path_params["host"])
        return ObjectRef("host", host.name, host.datacenter, host.cluster, host.name)
    if kind == "cluster":
        name = request.path_params["cluster"]
        cluster = next((c for c in engine.config.clusters if c.name == name), None)
        if cluster is None:
            names = ", ".join(c.name for c in engine.config.clusters)
            raise HTTPException(404, f"no cluster named {name!r} (clusters: {names})")
        return ObjectRef("cluster", cluster.name, cluster.datacenter, cluster.name)
    if kind == "storage":
        return storage_ref(find_storage(engine.storage, request.path_params["storage"]))
    if kind == "template":
        name = request.path_params["template"]
        found = engine.provision.templates.get(name)
        if found is None:
            names = ", ".join(t["name"] for t in engine.provision.templates.all())
            raise HTTPException(404, f"no template named {name!r} (templates: {names})")
        return ObjectRef("template", name, found["datacenter"] or "")
    return SYSTEM_REF


class Public:
    """Declares a route open to anyone (health, sign-in). Explicit, so the matrix test sees it."""

    permission = None

    async def __call__(self) -> None:
        return None


class Require:
    """Declares the permission a route needs (None = any signed-in user) and on what target."""

    def __init__(self, permission: Permission | None, *, target: str | None = None) -> None:
        self.permission = permission
        self.target = target

    async def __call__(self, request: Request) -> Caller:
        engine = engine_of(request)
        token = _token(request)
        principal = engine.sessions.lookup(token)
        if principal is None:
            raise HTTPException(401, "session expired or signed out: sign in again")
        caller = Caller(principal, token, source_of(request))
        if self.permission is None:
            return caller
        ref = _target(request, engine, self.target)
        if not authorize(principal, self.permission, ref):
            engine.audit.record(
                actor=principal.name,
                actor_source=principal.source,
                action=self.permission.value,
                target=f"{ref.kind}/{ref.name}",
                result="denied",
                source=caller.source,
                detail="permission missing",
            )
            raise HTTPException(
                403,
                f"{principal.name} may not {self.permission.value} on {ref.kind} "
                f"{ref.name}: none of roles {sorted(principal.roles)} grants it",
            )
        return caller
