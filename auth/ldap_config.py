"""What the LDAP authenticator needs to know, as plain data (the engine maps its config here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# OpenLDAP groupOfNames / groupOfUniqueNames by member DN, posixGroup by memberUid.
DEFAULT_GROUP_FILTER = (
    "(|(&(objectClass=groupOfNames)(member={user_dn}))"
    "(&(objectClass=groupOfUniqueNames)(uniqueMember={user_dn}))"
    "(&(objectClass=posixGroup)(memberUid={username})))"
)
# Active Directory: every group the user is in, directly or through other groups.
IN_CHAIN_FILTER = "(member:1.2.840.113556.1.4.1941:={user_dn})"
TLS_MODES = ("ldaps", "starttls", "none")
MEMBERSHIP_MODES = ("search", "member_of")
NESTED_MODES = ("none", "walk", "in_chain")


@dataclass(frozen=True, slots=True)
class LdapSettings:
    urls: tuple[str, ...]
    tls: str = "ldaps"  # ldaps | starttls | none (none only with an explicit insecure flag)
    ca_file: str | None = None  # None: the system's trusted CAs
    # The service account that finds users (search-then-bind); None = anonymous search.
    bind_dn: str | None = None
    bind_password: Callable[[], str] | None = None  # read when used, so a rotated secret works
    # Either a DN template (direct bind) ...
    user_dn_template: str | None = None  # "uid={username},ou=people,dc=example,dc=org"
    # ... or search-then-bind.
    user_search_base: str | None = None
    user_search_filter: str = "(uid={username})"
    name_attribute: str = "uid"  # the principal's name: uid, sAMAccountName
    disabled_filter: str | None = None  # an entry matching it may not sign in
    group_search_base: str | None = None
    group_membership: str = "search"  # search (group_search_filter) | member_of (attribute)
    group_search_filter: str = DEFAULT_GROUP_FILTER
    nested_groups: str = "none"  # none | walk (follow member links) | in_chain (AD)
    nested_max_depth: int = 8
    connect_timeout: float = 5.0
    response_timeout: float = 10.0
    retry_dead_after: float = 60.0  # a server that failed is tried last for this long

    def __post_init__(self) -> None:
        if not self.urls:
            raise ValueError("at least one directory URL is needed")
        if self.tls not in TLS_MODES:
            raise ValueError(f"tls: {self.tls!r} (valid: {', '.join(TLS_MODES)})")
        if (self.user_dn_template is None) == (self.user_search_base is None):
            raise ValueError("give exactly one of user_dn_template or user_search_base")
        if self.group_membership not in MEMBERSHIP_MODES:
            raise ValueError(f"group_membership: {self.group_membership!r}")
        if self.nested_groups not in NESTED_MODES:
            raise ValueError(f"nested_groups: {self.nested_groups!r}")
