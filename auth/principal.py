"""Who is acting: an operator signed in, or a named system principal (policy jobs).

`authorize` is the one place that decides. A principal holds system-wide roles (`roles`) and
roles granted at a scope (`grants`); a grant on a scope covers everything inside it:
data center > cluster > host > VM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from auth.permissions import ROLES, Permission, permissions_of

SCOPES = ("system", "datacenter", "cluster", "host", "vm")
# A list route checks against the whole system and then shows only what the caller may see;
# for these permissions a grant at a narrower scope is enough to ask.
FILTERED_LISTS = frozenset({Permission.INVENTORY_READ})


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
class ScopedRole:
    """A role held on one object: ClusterAdmin on cluster prod-a."""

    role: str
    scope: str  # datacenter | cluster | host | vm
    object: str

    def covers(self, target: ObjectRef) -> bool:
        if target.kind == self.scope and target.name == self.object:
            return True
        contained = {
            "datacenter": target.datacenter,
            "cluster": target.cluster,
            "host": target.host if target.kind == "vm" else None,
        }
        return contained.get(self.scope) == self.object

    def __str__(self) -> str:
        return f"{self.role}@{self.scope}/{self.object}"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    roles: frozenset[str]  # system-wide
    source: str = "local"  # local | ldap | system
    groups: frozenset[str] = field(default_factory=frozenset)
    grants: frozenset[ScopedRole] = field(default_factory=frozenset)

    @property
    def permissions(self) -> frozenset[Permission]:
        """What the principal may do everywhere (scoped grants add to this on their objects)."""
        return permissions_of(self.roles)


def authorize(principal: Principal, permission: Permission, target: ObjectRef | None) -> bool:
    """The one place that decides: a system-wide role, or a grant whose scope covers target."""
    if permission in principal.permissions:
        return True
    target = target or SYSTEM_REF
    held = [g for g in principal.grants if permission in ROLES.get(g.role, frozenset())]
    if target.kind == "system":
        return permission in FILTERED_LISTS and bool(held)
    return any(g.covers(target) for g in held)


T = TypeVar("T")


def visible(
    principal: Principal,
    items: Iterable[T],
    ref_of: Callable[[T], ObjectRef],
    permission: Permission = Permission.INVENTORY_READ,
) -> Iterator[T]:
    """The items the principal may see (for list routes): each one authorised on its own."""
    if permission in principal.permissions:
        yield from items
        return
    for item in items:
        if authorize(principal, permission, ref_of(item)):
            yield item
