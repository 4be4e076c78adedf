"""Grants: a role given to a directory group or a user, system-wide or on one object.

Grants come from the config file (`[[auth.grants]]`, read-only at run time) and from the API
(kept in the engine's store). They are resolved into the Principal once, at sign-in: a change
takes effect at the user's next sign-in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from auth.permissions import ROLES
from auth.principal import SCOPES, ScopedRole


class GrantError(ValueError):
    """A grant that cannot be used; the message names the field and what would be valid."""


def normalize_dn(dn: str) -> str:
    """Case and spacing of a DN do not matter to LDAP, so they must not matter to a grant."""
    parts = re.split(r"(?<!\\),", dn.strip())
    out = []
    for part in parts:
        attr, sep, value = part.partition("=")
        out.append(f"{attr.strip().lower()}{sep}{value.strip().lower()}")
    return ",".join(out)


@dataclass(frozen=True, slots=True)
class Grant:
    role: str
    scope: str = "system"
    object: str = ""
    group: str | None = None  # a group DN (LDAP)
    user: str | None = None  # a user name (LDAP or local)
    id: str = ""  # set for grants kept in the store
    origin: str = "config"  # config | api
    created_by: str = ""
    created_at: str = ""

    def __post_init__(self) -> None:
        if (self.group is None) == (self.user is None):
            raise GrantError("a grant names exactly one of group or user")
        if not (self.group or self.user or "").strip():
            raise GrantError("the group or user of a grant must not be empty")
        if self.role not in ROLES:
            raise GrantError(f"role: unknown {self.role!r} (valid: {', '.join(ROLES)})")
        if self.scope not in SCOPES:
            raise GrantError(f"scope: unknown {self.scope!r} (valid: {', '.join(SCOPES)})")
        if self.scope == "system" and self.object:
            raise GrantError('scope "system" takes no object (leave object out)')
        if self.scope != "system" and not self.object:
            raise GrantError(f'scope "{self.scope}" needs object = the {self.scope} name')

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Grant:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "") or k == "object"}

    @property
    def subject(self) -> str:
        return f"group {self.group}" if self.group else f"user {self.user}"

    def applies_to(self, user: str, groups: frozenset[str]) -> bool:
        if self.user is not None:
            return self.user.casefold() == user.casefold()
        return normalize_dn(self.group or "") in groups


@dataclass(frozen=True, slots=True)
class Granted:
    """What a sign-in resolved to: system-wide roles and roles on objects."""

    roles: frozenset[str]
    scoped: frozenset[ScopedRole]

    def __bool__(self) -> bool:
        return bool(self.roles or self.scoped)


class GrantBook:
    """Config grants plus the stored ones (read fresh at each sign-in)."""

    def __init__(
        self, configured: Iterable[Grant], stored: Callable[[], Iterable[Grant]] = tuple
    ) -> None:
        self._configured = tuple(configured)
        self._stored = stored

    def all(self) -> list[Grant]:
        return [*self._configured, *self._stored()]

    def resolve(
        self, user: str, groups: frozenset[str], base_roles: frozenset[str] = frozenset()
    ) -> Granted:
        """The roles `user` (member of the normalised group DNs `groups`) holds."""
        roles, scoped = set(base_roles), set()
        for g in self.all():
            if not g.applies_to(user, groups):
                continue
            if g.scope == "system":
                roles.add(g.role)
            else:
                scoped.add(ScopedRole(g.role, g.scope, g.object))
        return Granted(frozenset(roles), frozenset(scoped))
