"""Require, as in the native API, for paths that name objects by oVirt ID.

oVirt paths carry IDs (a VM's UUID, or the derived UUID of a host); ovtui.api.authz.Require
resolves the path's `vm`/`host` parameter. This translates the ID into that parameter and hands
over to Require: the same RBAC decision, the same audit of refusals, the same caller record.
"""

from __future__ import annotations

from fastapi import Request

from auth.permissions import Permission
from ovtui.api.authz import Caller, Require, engine_of
from ovtui.api.ovirt.entities import host_id
from ovtui.model import Host, Snapshot


def host_by_id(snap: Snapshot, ident: str) -> Host | None:
    return next((h for h in snap.hosts if host_id(h.name) == ident), None)


class OvirtRequire(Require):
    async def __call__(self, request: Request) -> Caller:
        params = request.scope.setdefault("path_params", {})
        ident = params.get("id", "")
        if self.target == "vm":
            params["vm"] = ident  # Require finds a VM by UUID, the oVirt ID of a VM
        elif self.target == "host":
            # Unknown: Require answers 404 once the caller is known to be signed in.
            host = host_by_id(engine_of(request).snapshot(), ident)
            params["host"] = host.name if host else ident
        return await super().__call__(request)


def require(permission: Permission | None, target: str | None = None) -> OvirtRequire:
    return OvirtRequire(permission, target=target)
