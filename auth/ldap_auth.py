"""Signing in against LDAP / Active Directory with ldap3: authenticate, then look up groups.

Authentication: find the user's DN (a service account searches with the escaped user name), or
build it from a DN template, then bind as that DN with the user's password. An empty password
is refused before any connection is made: LDAP treats a simple bind without a password as an
anonymous bind that "succeeds", and that must never count as a sign-in.

With a service account, `disabled_filter` is evaluated on the entry found, before the bind: Active
Directory refuses the bind of a disabled account (and tells why only in its diagnostic, see
auth.ad_errors), so a filter checked after the bind would never run there. A caller may pass a
`gate` that sees the DN before the password is tried (the throttle's per-account lock).

Authorisation is a separate step (auth.grants): this module only says who the user is and which
groups (DNs, normalised) they are in, including an AD user's primary group (primaryGroupID, which
is in neither memberOf nor the groups' member). Every value that enters a filter is escaped.
"""

from __future__ import annotations

import math
import re
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import ldap3
from ldap3.core import exceptions as lex
from ldap3.utils.conv import escape_bytes, escape_filter_chars
from ldap3.utils.dn import escape_rdn

from auth.ad_errors import BAD_CREDENTIALS, ad_bind_code, ad_bind_reason
from auth.grants import normalize_dn
from auth.ldap_config import IN_CHAIN_FILTER, LdapSettings
from auth.ldap_errors import DirectoryUnavailable, LdapRefused, LdapSettingsError

INVALID_CREDENTIALS = 49
STRONGER_AUTH_REQUIRED = 8  # AD refuses a simple bind in clear ("ldap server require strong auth")
MAX_NAME = 256
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_PAGED = "1.2.840.113556.1.4.319"
_SERVER_TROUBLE = {51, 52}  # busy, unavailable: another server may do better


class _ServerTrouble(Exception):
    """This server cannot serve us now (busy, unavailable, dropped us): try the next one."""


# Failures that are about reaching a server, not about the user: try the next server.
_UNREACHABLE = (
    lex.LDAPCommunicationError,
    lex.LDAPStartTLSError,
    lex.LDAPCertificateError,
    lex.LDAPResponseTimeoutError,
    _ServerTrouble,
    OSError,
)


Gate = Callable[[str], None]  # sees the resolved DN before the bind; raises to stop there


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    dn: str
    groups: frozenset[str]  # normalised group DNs


def fill(template: str, **values: str) -> str:
    """Puts escaped values into a filter: one pass, so a value cannot inject a placeholder."""
    escaped = {k: escape_filter_chars(v) for k, v in values.items()}
    return _PLACEHOLDER.sub(lambda m: escaped.get(m.group(1), m.group(0)), template)


def check_user_name(username: str) -> None:
    if not username or not username.strip():
        raise LdapRefused("empty user name")
    if len(username) > MAX_NAME or _CONTROL.search(username):
        raise LdapRefused("user name too long or with control characters")


def _why(exc: BaseException) -> str:
    text = str(exc).strip("()',\"") or exc.__class__.__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or isinstance(exc, lex.LDAPCertificateError):
        return f"TLS certificate not trusted ({text}); check ca_file and the server's name"
    if "timed out" in text.lower() or isinstance(exc, TimeoutError):
        return f"timed out ({text})"
    return text


class LdapAuthenticator:
    def __init__(
        self,
        settings: LdapSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_connection: Callable[[ldap3.Connection], None] | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._on_connection = on_connection  # a hook for tests (counting binds)
        self._failed_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._tls = self._make_tls()

    # -- servers -------------------------------------------------------------------------------
    def _make_tls(self) -> ldap3.Tls | None:
        s = self.settings
        if s.tls == "none":
            return None
        if s.ca_file is not None:
            self._check_ca_file(s.ca_file)
        try:
            return ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=s.ca_file)
        except lex.LDAPSSLConfigurationError as exc:
            raise LdapSettingsError("ca_file", f"{s.ca_file}: {exc}") from None

    @staticmethod
    def _check_ca_file(path: str) -> None:
        """Loads the CA file as every TLS handshake will: an empty or wrong file fails here."""
        fix = "give a PEM file with the certificate of the CA that signed the directory's"
        fix += " server certificates"
        try:
            ssl.create_default_context().load_verify_locations(cafile=path)
        except ssl.SSLError as exc:
            why = exc.reason or str(exc)
            raise LdapSettingsError(
                "ca_file", f"{path} holds no usable CA certificate ({why}); {fix}"
            ) from None
        except FileNotFoundError:
            raise LdapSettingsError("ca_file", f"{path}: no such file; {fix}") from None
        except OSError as exc:
            raise LdapSettingsError("ca_file", f"{path}: cannot read: {exc.strerror}") from None

    def servers_in_order(self) -> list[str]:
        """Configured order, except that servers which failed recently go last."""
        now = self._clock()
        with self._lock:
            recent = {
                u: t for u, t in self._failed_at.items() if now - t < self.settings.retry_dead_after
            }
            self._failed_at = recent
        fine = [u for u in self.settings.urls if u not in recent]
        return fine + sorted(recent, key=recent.__getitem__)

    def _server(self, url: str) -> ldap3.Server:
        host = urlsplit(url).hostname or ""
        tls = self._tls
        if tls is not None:
            tls = ldap3.Tls(validate=tls.validate, ca_certs_file=tls.ca_certs_file, sni=host)
        return ldap3.Server(
            url,
            use_ssl=self.settings.tls == "ldaps",
            tls=tls,
            connect_timeout=self.settings.connect_timeout,
            get_info=ldap3.NONE,
        )

    def _connect(self, server: ldap3.Server, dn: str | None, password: str | None) -> Any:
        """An open (and for StartTLS, encrypted) connection, bound as dn (None: anonymous)."""
        conn = ldap3.Connection(
            server,
            user=dn,
            password=password,
            authentication=ldap3.SIMPLE if dn else ldap3.ANONYMOUS,
            # ldap3 packs this into SO_RCVTIMEO as whole seconds: it must be an int.
            receive_timeout=max(1, math.ceil(self.settings.response_timeout)),
            auto_referrals=False,
            read_only=True,
            raise_exceptions=False,
        )
        try:
            conn.open()
            if self.settings.tls == "starttls":
                conn.start_tls()
            if self._on_connection is not None:
                self._on_connection(conn)
            conn.bind()
        except BaseException:
            try:
                conn.unbind()
            except lex.LDAPException:
                pass
            raise
        return conn

    # -- the two steps ---------------------------------------------------------------------------
    def authenticate(self, username: str, password: str, gate: Gate | None = None) -> Identity:
        """The user's identity and groups; raises LdapRefused or DirectoryUnavailable.

        `gate(dn)` runs once the name has resolved to a DN and before the password is tried;
        whatever it raises ends the attempt (connections closed) and reaches the caller.
        """
        if not password:
            raise LdapRefused("empty password (would be an anonymous bind)")
        check_user_name(username)
        problems = []
        for url in self.servers_in_order():
            try:
                return self._authenticate_on(self._server(url), username, password, gate)
            except _UNREACHABLE as exc:
                with self._lock:
                    self._failed_at[url] = self._clock()
                problems.append(f"{url}: {_why(exc)}")
            except lex.LDAPException as exc:
                raise DirectoryUnavailable(f"{url}: LDAP error: {_why(exc)}") from None
        raise DirectoryUnavailable("no directory server answered: " + "; ".join(problems))

    def _authenticate_on(
        self, server: ldap3.Server, username: str, password: str, gate: Gate | None
    ) -> Identity:
        s = self.settings
        opened: list[Any] = []
        try:
            reader = None
            if s.bind_dn or s.user_search_base:
                try:
                    secret = s.bind_password() if s.bind_dn and s.bind_password else None
                except (LookupError, OSError) as exc:
                    raise DirectoryUnavailable(f"bind_password cannot be read: {exc}") from None
                reader = self._connect(server, s.bind_dn, secret)
                opened.append(reader)
                if not reader.bound:
                    if reader.result.get("result") in _SERVER_TROUBLE:
                        raise _ServerTrouble(str(reader.result.get("description")))
                    fix = "check [auth.ldap] bind_dn and bind_password"
                    if reader.result.get("result") == STRONGER_AUTH_REQUIRED:
                        fix = 'it wants TLS for a simple bind: set tls = "starttls" or "ldaps"'
                    raise DirectoryUnavailable(
                        f"{server.host}: the service account {s.bind_dn or '(anonymous)'} "
                        f"cannot bind: {reader.result.get('description')}; {fix}"
                    )
            if s.user_search_base is not None:
                assert reader is not None
                dn = self._find_user(reader, username)
            else:
                assert s.user_dn_template is not None
                dn = s.user_dn_template.replace("{username}", escape_rdn(username))
            if gate is not None:
                gate(dn)
            # Before the bind: AD refuses a disabled account's bind (data 533) anyway.
            if reader is not None:
                self._refuse_if_disabled(reader, dn, "disabled_filter; not bound")
            user = self._connect(server, dn, password)
            opened.append(user)
            if not user.bound:
                self._refused_bind(dn, user.result)
            if reader is None:  # a direct bind: only now can the entry be read
                reader = user
                self._refuse_if_disabled(reader, dn, "disabled_filter")
            found = self._entry(reader, dn)
            if found is None:
                raise LdapRefused(f"{dn} bound but cannot be read", account=dn)
            entry = dict(found.get("attributes") or {})
            names = entry.get(s.name_attribute) or [username]
            name = str(names[0] if isinstance(names, list) else names)
            return Identity(name, dn, self._groups(reader, dn, name, found))
        finally:
            for conn in opened:
                try:
                    conn.unbind()
                except lex.LDAPException:
                    pass

    def _refuse_if_disabled(self, conn: Any, dn: str, how: str) -> None:
        filt = self.settings.disabled_filter
        if filt and self._matches(conn, dn, filt):
            raise LdapRefused(
                f"{dn} is disabled in the directory ({how})", account=dn, credentials=False
            )

    @staticmethod
    def _refused_bind(dn: str, result: dict[str, Any]) -> None:
        code = result.get("result")
        if code in _SERVER_TROUBLE:
            raise _ServerTrouble(f"{result.get('description')}")
        if code == INVALID_CREDENTIALS:
            # AD says why in the diagnostic (disabled, expired, locked, ...): audit the reason.
            ad_code = ad_bind_code(result.get("message"))
            why = ad_bind_reason(result.get("message")) or "wrong password"
            credentials = ad_code is None or ad_code in BAD_CREDENTIALS
            raise LdapRefused(f"{why} for {dn}", account=dn, credentials=credentials)
        raise LdapRefused(f"bind of {dn} refused: {result.get('description')}", account=dn)

    # -- reads ---------------------------------------------------------------------------------
    def _search(self, conn: Any, base: str, filt: str, scope: Any, attrs: Any) -> list[Any]:
        """Entries (not referrals), following paged results; raises on an operation error."""
        entries: list[Any] = []
        cookie = None
        while True:
            conn.search(
                base,
                filt,
                search_scope=scope,
                attributes=attrs,
                paged_size=500 if scope == ldap3.SUBTREE else None,
                paged_cookie=cookie,
                time_limit=max(1, math.ceil(self.settings.response_timeout)),
            )
            code = conn.result.get("result")
            if code not in (0, 32):  # success, noSuchObject
                if code in _SERVER_TROUBLE or conn.closed:
                    raise _ServerTrouble(f"{conn.result.get('description')}")
                raise DirectoryUnavailable(
                    f"search {filt} under {base!r} failed: {conn.result.get('description')} "
                    f"{conn.result.get('message', '')}".strip()
                )
            entries += [r for r in conn.response or [] if r.get("type") == "searchResEntry"]
            controls = conn.result.get("controls") or {}
            cookie = controls.get(_PAGED, {}).get("value", {}).get("cookie")
            if not cookie:
                return entries

    def _find_user(self, reader: Any, username: str) -> str:
        s = self.settings
        assert s.user_search_base is not None
        filt = fill(s.user_search_filter, username=username)
        found = self._search(reader, s.user_search_base, filt, ldap3.SUBTREE, ldap3.NO_ATTRIBUTES)
        if not found:
            raise LdapRefused(f"no directory entry matches {filt}")
        if len(found) > 1:
            raise LdapRefused(f"{len(found)} directory entries match {filt}; refusing to guess")
        return str(found[0]["dn"])

    def _entry(self, conn: Any, dn: str) -> dict[str, Any] | None:
        """The user's entry as ldap3 returns it (attributes and raw_attributes)."""
        # primaryGroupID and objectSid: AD's primary group; other servers return neither.
        attrs = [self.settings.name_attribute, "memberOf", "primaryGroupID", "objectSid"]
        found = self._search(conn, dn, "(objectClass=*)", ldap3.BASE, attrs)
        return found[0] if found else None

    def _matches(self, conn: Any, dn: str, filt: str) -> bool:
        return bool(self._search(conn, dn, filt, ldap3.BASE, ldap3.NO_ATTRIBUTES))

    def _group_dns(self, conn: Any, filt: str) -> set[str]:
        base = self.settings.group_search_base
        assert base is not None
        found = self._search(conn, base, filt, ldap3.SUBTREE, ldap3.NO_ATTRIBUTES)
        return {normalize_dn(str(e["dn"])) for e in found}

    def _primary_group(self, conn: Any, found: dict[str, Any]) -> str | None:
        """The DN of an AD user's primary group: the domain's SID (the user's objectSid without
        its last part) plus primaryGroupID as the RID, looked up under the group search base."""
        base = self.settings.group_search_base
        rid = (found.get("attributes") or {}).get("primaryGroupID")
        sid = (found.get("raw_attributes") or {}).get("objectSid")
        rid = rid[0] if isinstance(rid, list) and rid else rid
        sid = sid[0] if isinstance(sid, list) and sid else sid
        if base is None or not isinstance(sid, bytes) or not str(rid or "").isdigit():
            return None
        # A SID: revision, count of sub-authorities, 6-byte authority, 4-byte sub-authorities.
        if len(sid) < 12 or len(sid) != 8 + 4 * sid[1]:
            return None
        group_sid = sid[:-4] + struct.pack("<I", int(str(rid)))
        filt = f"(objectSid={escape_bytes(group_sid)})"
        hits = self._search(conn, base, filt, ldap3.SUBTREE, ldap3.NO_ATTRIBUTES)
        return str(hits[0]["dn"]) if len(hits) == 1 else None

    def _groups(self, conn: Any, dn: str, name: str, found: dict[str, Any]) -> frozenset[str]:
        s = self.settings
        entry = found.get("attributes") or {}
        groups: set[str] = set()
        if s.group_membership == "member_of":
            groups |= {normalize_dn(str(g)) for g in entry.get("memberOf") or []}
        elif s.group_search_base is not None and s.nested_groups != "in_chain":
            groups |= self._group_dns(conn, fill(s.group_search_filter, user_dn=dn, username=name))
        if s.group_search_base is None:
            return frozenset(groups)
        primary = self._primary_group(conn, found)
        if primary is not None:
            groups.add(normalize_dn(primary))
        if s.nested_groups == "in_chain":
            for member in (dn, primary) if primary else (dn,):
                groups |= self._group_dns(conn, fill(IN_CHAIN_FILTER, user_dn=member))
        elif s.nested_groups == "walk":
            groups |= self._walk(conn, groups)
        return frozenset(groups)

    def _walk(self, conn: Any, direct: Iterable[str]) -> set[str]:
        """Groups that contain the user's groups, level by level (with a depth limit)."""
        seen, frontier = set(direct), set(direct)
        for _ in range(self.settings.nested_max_depth):
            if not frontier:
                break
            members = "".join(fill("(member={g})(uniqueMember={g})", g=g) for g in frontier)
            parents = self._group_dns(conn, f"(|{members})") - seen
            seen |= parents
            frontier = parents
        return seen
