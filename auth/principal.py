"""Who is acting: an operator signed in, or a named system principal (policy jobs)."""

from __future__ import annotations

from dataclasses import dataclass, field

from auth.permissions import Permission, permissions_of


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """The target of an action, with the scopes that contain it (for scoped grants)."""

    kind: str  # system | datacenter | cluster | host | vm
    name: str
    datacenter: str | None = None
    cluster: str | None = None
    host: str | None = None


SYSTEM_REF = ObjectRef("system", "system")


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    roles: frozenset[str]
    source: str = "local"  # local | ldap | system
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.roles)


def authorize(principal: Principal, permission: Permission, target: ObjectRef | None) -> bool:
    """The one place that decides. Scoped grants (datacenter/cluster/host/vm) plug in here."""
    del target  # every grant is system-wide until scoped grants exist
    return permission in principal.permissions
