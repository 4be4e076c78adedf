"""What the signed-in operator may do, and on which objects: the engine's rule, mirrored.

GET /api/v1/sessions/current returns system-wide "permissions" and scoped "grants" ({role,
scope, object}); a grant covers its object and everything inside it (data center > cluster >
host > VM), as in auth.principal.authorize. The engine still decides: this only decides which
keys the dashboard offers, so a stale or wrong answer here costs a 403, never an action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auth.permissions import ROLES
from ovtui.tui.rows import HostRow, VmRow


@dataclass(frozen=True, slots=True)
class ScopedGrant:
    permissions: frozenset[str]
    scope: str  # datacenter | cluster | host | vm
    object: str


@dataclass(frozen=True, slots=True)
class Rights:
    system: frozenset[str] = frozenset()
    grants: tuple[ScopedGrant, ...] = ()

    @classmethod
    def from_whoami(cls, who: dict[str, Any]) -> Rights:
        grants = tuple(
            ScopedGrant(
                frozenset(str(p) for p in ROLES.get(str(g.get("role")), ())),
                str(g.get("scope", "")),
                str(g.get("object", "")),
            )
            for g in who.get("grants", ())
        )
        return cls(frozenset(str(p) for p in who.get("permissions", ())), grants)

    def somewhere(self, permission: str) -> bool:
        """May do it on at least one object: worth showing the key at all."""
        return permission in self.system or any(permission in g.permissions for g in self.grants)

    def on_vm(self, permission: str, vm: VmRow) -> bool:
        where = {"datacenter": vm.datacenter, "cluster": vm.cluster, "host": vm.host}
        return self._covered(permission, where, ("vm", vm.name))

    def on_host(self, permission: str, host: HostRow) -> bool:
        where = {"datacenter": host.datacenter, "cluster": host.cluster}
        return self._covered(permission, where, ("host", host.name))

    def _covered(self, permission: str, where: dict[str, str], itself: tuple[str, str]) -> bool:
        if permission in self.system:
            return True
        return any(
            permission in g.permissions
            and ((g.scope, g.object) == itself or where.get(g.scope) == g.object)
            for g in self.grants
        )
