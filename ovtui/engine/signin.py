"""Signing in: throttle, authenticate (local or LDAP), authorise (grants), open a session, audit.

Authentication says who the user is; authorisation (auth.grants) then says what they may do, at
which scope. A local account (root-only file) is checked first when it has the name asked for:
with a directory configured that is the break-glass path, and it is audited loudly.

The directory may block for up to its timeouts, so call `login` off the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from auth.audit import AuditTrail, note_left_out
from auth.grants import Grant, GrantBook
from auth.ldap_config import LdapSettings
from auth.ldap_errors import DirectoryUnavailable, LdapRefused, LdapSettingsError
from auth.local_users import LocalAuthenticator, LocalUser, load_local_users
from auth.principal import Principal
from auth.refusal_limit import RefusalLimit
from auth.sessions import SessionStore
from auth.throttle import Locked, Throttle
from ovtui.config.load import ConfigError
from ovtui.config.schema import Config, LdapConfig

if TYPE_CHECKING:
    from auth.ldap_auth import LdapAuthenticator

log = logging.getLogger(__name__)
BREAK_GLASS = "BREAK-GLASS local account used"
GRANTS_TABLE = "grants"


class SignInError(Exception):
    """Refused sign-in. The message never says which of user or password was wrong."""


REFUSED = "sign-in refused: unknown user or wrong password"
DIRECTORY_DOWN = (
    "the directory cannot be reached, so sign-in is not possible now (the engine log says why)"
)
BREAK_GLASS_HINT = "; a local break-glass account still works"


class _AccountLocked(Exception):
    """Raised by the throttle's gate: the account the name resolved to is locked."""

    def __init__(self, locked: Locked) -> None:
        super().__init__(locked.what)
        self.locked = locked


@dataclass
class SignIn:
    local: LocalAuthenticator
    sessions: SessionStore
    audit: AuditTrail
    ldap: LdapAuthenticator | None = None
    grants: GrantBook = field(default_factory=lambda: GrantBook(()))
    throttle: Throttle = field(default_factory=Throttle)
    # Names in the local users file: with a directory configured, these are checked locally
    # only (break-glass), every other name goes to the directory.
    local_names: frozenset[str] = frozenset()
    # Refused sign-ins are records of callers not signed in: rate-limited per source, and each
    # one left out is counted by `left_out` (the engine's metric).
    limit: RefusalLimit | None = None
    left_out: Callable[[], None] = lambda: None

    def _deny(
        self,
        username: str,
        source: str,
        detail: str,
        *,
        result: str = "denied",
        limited: bool = True,
        **extra: Any,
    ) -> None:
        params: dict[str, Any] = {}
        if limited and self.limit is not None:
            dropped = self.limit.admit(source)
            if dropped is None:
                self.left_out()
                note_left_out()
                return
            if dropped:
                params["dropped_before"] = dropped
        self.audit.record(
            actor=username,
            action="login",
            result=result,
            source=source,
            detail=detail,
            params=params,
            **extra,
        )

    def login(self, username: str, password: str, source: str) -> tuple[str, Principal]:
        if not username or not password:
            # An empty password is refused before any check (an LDAP unauthenticated bind
            # would otherwise "succeed").
            self._deny(username, source, "empty user name or password")
            raise SignInError("user name and password are both required")
        locked = self.throttle.check(username, source)
        if locked is not None:
            self._throttled(username, source, locked)
        try:
            principal, account = self._authenticate(username, password, source)
        except _AccountLocked as exc:
            self._throttled(username, source, exc.locked, "ldap")
        # The name as typed and the account: that is what failures counted.
        self.throttle.succeeded(username, account)
        return self._open_session(principal, source), principal

    def _throttled(
        self, username: str, source: str, locked: Locked, actor_source: str = ""
    ) -> NoReturn:
        message = locked.message(self.throttle.now())
        account = f" (account {locked.account})" if locked.account else ""
        self._deny(username, source, f"throttled{account}: {message}", actor_source=actor_source)
        raise SignInError(message)

    def _failed(
        self,
        username: str,
        source: str,
        detail: str,
        actor_source: str = "",
        account: str | None = None,
    ) -> NoReturn:
        self._deny(username, source, detail, actor_source=actor_source)
        locked = self.throttle.failed(username, source, account)
        if locked is not None:
            message = locked.message(self.throttle.now())
            what = f" of account {locked.account}" if locked.account else ""
            detail = f"locked after {locked.failures} failures{what}: {message}"
            self._deny(username, source, detail, limited=False)  # once per lock: no flood
            raise SignInError(f"{REFUSED}; {message}")
        raise SignInError(REFUSED)

    def _gate(self, username: str, source: str) -> Callable[[str], None]:
        """Before the directory checks the password: is the account this name resolved to
        locked (perhaps by guesses under another form of the name)?"""

        def gate(dn: str) -> None:
            locked = self.throttle.check(username, source, account=dn)
            if locked is not None:
                raise _AccountLocked(locked)

        return gate

    def _authenticate(
        self, username: str, password: str, source: str
    ) -> tuple[Principal, str | None]:
        """The principal, and the account (DN) the name resolved to (None for local users)."""
        if self.ldap is None or username in self.local_names:
            found = self.local.authenticate(username, password)
            if found is None:
                self._failed(username, source, "bad credentials (local)", "local")
            return self._authorise(found.name, "local", frozenset(), found.roles, source), None
        try:
            identity = self.ldap.authenticate(username, password, self._gate(username, source))
        except LdapRefused as exc:
            # The audit says why (disabled, expired, ...); the caller only hears "refused".
            kind = "bad credentials" if exc.credentials else "account may not sign in"
            self._failed(username, source, f"{kind} (ldap: {exc})", "ldap", exc.account)
        except DirectoryUnavailable as exc:
            log.error("sign-in of %r: directory unavailable: %s", username, exc)
            detail = f"directory unavailable: {exc}"
            self._deny(username, source, detail, result="failed", actor_source="ldap")
            # Only a local users file with someone in it makes a break-glass account.
            hint = BREAK_GLASS_HINT if self.local_names else ""
            raise SignInError(DIRECTORY_DOWN + hint) from None
        principal = self._authorise(identity.name, "ldap", identity.groups, frozenset(), source)
        return principal, identity.dn

    def _authorise(
        self,
        name: str,
        origin: str,
        groups: frozenset[str],
        base_roles: frozenset[str],
        source: str,
    ) -> Principal:
        granted = self.grants.resolve(name, groups, base_roles)
        if not granted:
            self._deny(
                name,
                source,
                f"authenticated, but no role is granted to {name} or its {len(groups)} groups",
                actor_source=origin,
            )
            raise SignInError(
                f"{name} is known, but no role is granted to you or your groups: ask an "
                "administrator for a grant (GET/POST /api/v1/grants)"
            )
        return Principal(name, granted.roles, origin, groups, granted.scoped)

    def _open_session(self, principal: Principal, source: str) -> str:
        token = self.sessions.create(principal, source)
        detail = ""
        if principal.source == "local" and self.ldap is not None:
            detail = BREAK_GLASS
            log.warning(
                "%s: %s signed in from %s while a directory is configured",
                BREAK_GLASS,
                principal.name,
                source,
            )
        self.audit.record(
            actor=principal.name,
            actor_source=principal.source,
            action="login",
            source=source,
            detail=detail,
            params={
                "roles": sorted(principal.roles),
                "grants": sorted(str(g) for g in principal.grants),
                "groups": len(principal.groups),
            },
        )
        return token

    def logout(self, token: str, principal: Principal, source: str) -> None:
        self.sessions.revoke(token)
        self.audit.record(
            actor=principal.name, actor_source=principal.source, action="logout", source=source
        )


# -- wiring from the config ---------------------------------------------------------------------
def ldap_settings(cfg: LdapConfig) -> LdapSettings:
    secret = cfg.bind_password
    return LdapSettings(
        urls=tuple(cfg.urls),
        tls=cfg.tls,
        ca_file=str(cfg.ca_file) if cfg.ca_file else None,
        bind_dn=cfg.bind_dn,
        bind_password=secret.resolve if secret is not None else None,
        user_dn_template=cfg.user_dn_template,
        user_search_base=cfg.user_search_base,
        user_search_filter=cfg.user_search_filter,
        name_attribute=cfg.name_attribute,
        disabled_filter=cfg.disabled_filter,
        group_search_base=cfg.groups.search_base,
        group_membership=cfg.groups.membership,
        group_search_filter=cfg.groups.search_filter,
        nested_groups=cfg.groups.nested,
        nested_max_depth=cfg.groups.max_depth,
        connect_timeout=cfg.connect_timeout_seconds,
        response_timeout=cfg.response_timeout_seconds,
        retry_dead_after=cfg.retry_dead_server_after_seconds,
    )


def stored_grants(table: Any) -> Callable[[], Iterable[Grant]]:
    """Reads the API-managed grants from the store at each sign-in (skipping damaged ones)."""

    def read() -> list[Grant]:
        out = []
        for doc in table.all():
            try:
                out.append(Grant.from_dict({**doc, "origin": "api"}))
            except (ValueError, TypeError) as exc:
                log.warning("ignoring stored grant %s: %s", dict(doc), exc)
        return out

    return read


def configured_grants(config: Config) -> list[Grant]:
    # Their objects were checked when the config was loaded (config/crossrefs.py).
    return [
        Grant(g.role, g.scope, g.object, group=g.group, user=g.user, id=f"config-{i}")
        for i, g in enumerate(config.auth.grants)
    ]


def build_signin(
    config: Config,
    store: Any,
    sessions: SessionStore,
    audit: AuditTrail,
    limit: RefusalLimit | None = None,
    left_out: Callable[[], None] = lambda: None,
) -> SignIn:
    """Sign-in for the engine: local users, LDAP, grants (config + store), throttle."""
    auth = config.auth
    # `ovtui engine` refused a missing file before this (config/preflight.py); an Engine built
    # in-process (tests, tools) without one simply has no local accounts.
    users: dict[str, LocalUser] = (
        load_local_users(auth.local_users_file, missing_ok=True) if auth.local_users_file else {}
    )
    ldap = None
    try:
        if auth.ldap is not None:
            from auth.ldap_auth import LdapAuthenticator  # ldap3 only with a directory: ~80 ms

            ldap = LdapAuthenticator(ldap_settings(auth.ldap))
    except LdapSettingsError as exc:  # e.g. a ca_file that holds no certificate
        raise ConfigError(f"{config.source}: auth.ldap.{exc.key}: {exc.problem}") from None
    except DirectoryUnavailable as exc:
        raise ConfigError(f"{config.source}: auth.ldap: {exc}") from None
    t = auth.throttle
    throttle = Throttle(
        t.max_failures, t.window_seconds, t.lockout_seconds, t.max_failures_per_source
    )
    book = GrantBook(configured_grants(config), stored_grants(store.table(GRANTS_TABLE)))
    return SignIn(
        LocalAuthenticator(users),
        sessions,
        audit,
        ldap,
        book,
        throttle,
        frozenset(users),
        limit,
        left_out,
    )
