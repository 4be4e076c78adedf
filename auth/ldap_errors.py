"""What signing in against LDAP can raise, apart from ldap3 itself.

Its own module so that the engine's sign-in can catch these without importing ldap3 (~80 ms of
start-up) when no directory is configured; auth.ldap_auth raises them and re-exports them.
"""

from __future__ import annotations


class LdapRefused(Exception):
    """The directory (or our checks) refused these credentials. str() is for the audit only.

    `account` is the DN the name resolved to, when it resolved (a wrong password still does);
    `credentials` is False when the password may have been right but the account may not sign
    in (disabled, expired, locked, must change its password).
    """

    def __init__(self, message: str, *, account: str | None = None, credentials: bool = True):
        super().__init__(message)
        self.account = account
        self.credentials = credentials


class DirectoryUnavailable(Exception):
    """No directory server could answer, or the directory settings are wrong."""


class LdapSettingsError(DirectoryUnavailable):
    """A setting that cannot work, found at start: `key` names it (in [auth.ldap])."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key, self.problem = key, problem
