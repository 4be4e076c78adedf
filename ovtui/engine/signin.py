"""Signing in: authenticate, open a session, audit the attempt either way."""

from __future__ import annotations

from dataclasses import dataclass

from auth.audit import AuditTrail
from auth.local_users import LocalAuthenticator
from auth.principal import Principal
from auth.sessions import SessionStore


class SignInError(Exception):
    """Refused sign-in. The message never says which of user or password was wrong."""


@dataclass
class SignIn:
    local: LocalAuthenticator
    sessions: SessionStore
    audit: AuditTrail

    def login(self, username: str, password: str, source: str) -> tuple[str, Principal]:
        if not username or not password:
            # An empty password is refused before any check (an LDAP unauthenticated bind
            # would otherwise "succeed").
            self.audit.record(
                actor=username,
                action="login",
                result="denied",
                source=source,
                detail="empty user name or password",
            )
            raise SignInError("user name and password are both required")
        principal = self.local.authenticate(username, password)
        if principal is None:
            self.audit.record(
                actor=username,
                action="login",
                result="denied",
                source=source,
                detail="bad credentials",
            )
            raise SignInError("sign-in refused: unknown user or wrong password")
        token = self.sessions.create(principal, source)
        self.audit.record(
            actor=username,
            actor_source=principal.source,
            action="login",
            source=source,
            params={"roles": sorted(principal.roles)},
        )
        return token, principal

    def logout(self, token: str, principal: Principal, source: str) -> None:
        self.sessions.revoke(token)
        self.audit.record(actor=principal.name, action="logout", source=source)
