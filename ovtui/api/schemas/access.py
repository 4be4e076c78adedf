"""Sign-in, who-am-I and grants: roles, permissions and scopes are fixed sets, so enums."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from auth.permissions import ROLES, Permission
from auth.principal import SCOPES
from ovtui.api.schemas.derive import Strict

# Built from the definitions, so a new role or scope is documented the moment it exists.
RoleName = StrEnum("RoleName", {name: name for name in ROLES})  # type: ignore[misc]
ScopeName = StrEnum("ScopeName", {name: name for name in SCOPES})  # type: ignore[misc]
ObjectScope = StrEnum("ObjectScope", {s: s for s in SCOPES if s != "system"})  # type: ignore[misc]


class ScopedGrant(Strict):
    role: RoleName
    scope: ObjectScope
    object: str


class WhoAmI(Strict):
    """System-wide roles and permissions, plus roles held on single objects."""

    user: str
    roles: list[RoleName]
    permissions: list[Permission]
    grants: list[ScopedGrant]


class SignedIn(WhoAmI):
    token: str = Field(description="send as 'Authorization: Bearer TOKEN'")


class SignedOut(Strict):
    result: Literal["signed out"]


class GrantOut(Strict):
    """A grant; `id` "config-N" for grants from the config file."""

    id: str
    origin: Literal["config", "api"]
    role: RoleName
    scope: ScopeName
    object: str = Field(description='the scope\'s object; "" for scope system')
    group: str | None = Field(None, description="a group DN; exactly one of group or user")
    user: str | None = None
    created_by: str | None = Field(None, description="grants made through the API")
    created_at: str | None = Field(None, description="ISO 8601, grants made through the API")


class GrantChanged(GrantOut):
    result: str = Field(description="what changed and when it takes effect")
