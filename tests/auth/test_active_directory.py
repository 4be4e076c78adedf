"""Sign-in against a real Active Directory: a Samba AD DC provisioned on loopback for this module.

The settings are the README's AD block: search then bind as the user, `memberOf` plus
LDAP_MATCHING_RULE_IN_CHAIN, `alice` or `alice@corp.example.com`, the userAccountControl
disabled_filter, StartTLS or LDAPS with the test's CA.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from auth.audit import AuditTrail
from auth.grants import Grant, GrantBook, normalize_dn
from auth.ldap_auth import DirectoryUnavailable, LdapAuthenticator, LdapRefused
from auth.ldap_config import LdapSettings
from auth.local_users import LocalAuthenticator
from auth.sessions import SessionStore
from auth.throttle import Throttle
from ovtui.engine.signin import REFUSED, SignIn, SignInError
from tests.auth import samba_server
from tests.auth.samba_server import (
    BASE,
    DOMAIN_USERS,
    ODD_GROUP,
    ODD_USER_DN,
    PASSWORDS,
    SVC_DN,
    SVC_PW,
    UPN_SUFFIX,
    SambaDC,
    group_dn,
)
from tests.auth.samba_server import user_dn as dn

pytestmark = pytest.mark.slow  # a real Samba AD DC (provisioned once for the module)

AD_FILTER = "(&(objectClass=user)(|(sAMAccountName={username})(userPrincipalName={username})))"
AD_DISABLED = "(userAccountControl:1.2.840.113556.1.4.803:=2)"
BUILTIN_USERS = f"CN=Users,CN=Builtin,{BASE}"  # Domain Users is a member of it


@pytest.fixture(scope="module")
def dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaDC]:
    root = tmp_path_factory.mktemp("samba-ad")
    try:
        server = samba_server.build(root)
        server.start()
    except samba_server.SambaUnavailable as exc:
        pytest.fail(f"cannot run the Samba AD test server: {exc}", pytrace=False)
    try:
        server.populate()
        yield server
    finally:
        server.stop()


def ad_settings(dc: SambaDC, **overrides: Any) -> LdapSettings:
    """The README's Active Directory block, over StartTLS with the test CA."""
    base = LdapSettings(
        urls=(dc.ldap_url,),
        tls="starttls",
        ca_file=str(dc.ca_file),
        bind_dn=SVC_DN,
        bind_password=lambda: SVC_PW,
        user_search_base=BASE,
        user_search_filter=AD_FILTER,
        name_attribute="sAMAccountName",
        disabled_filter=AD_DISABLED,
        group_search_base=BASE,
        group_membership="member_of",
        nested_groups="in_chain",
        connect_timeout=5.0,
        response_timeout=5.0,
    )
    return replace(base, **overrides)


def groups(*dns: str) -> frozenset[str]:
    return frozenset(normalize_dn(g) for g in dns)


def refusal(auth: LdapAuthenticator, user: str, password: str) -> LdapRefused:
    with pytest.raises(LdapRefused) as info:
        auth.authenticate(user, password)
    return info.value


# -- who the user is, and their groups ------------------------------------------------------------
def test_plain_name_signs_in_with_groups_and_primary_group(dc: SambaDC) -> None:
    who = LdapAuthenticator(ad_settings(dc)).authenticate("alice", PASSWORDS["alice"])
    assert (who.name, who.dn) == ("alice", dn("alice"))
    # memberOf and in-chain give kvm-admins; primaryGroupID gives Domain Users (and what
    # contains it), which neither memberOf nor the groups' member attribute carries.
    assert who.groups == groups(group_dn("kvm-admins"), DOMAIN_USERS, BUILTIN_USERS)


@pytest.mark.parametrize("typed", [f"alice@{UPN_SUFFIX}", f"ALICE@{UPN_SUFFIX.upper()}", "Alice"])
def test_upn_and_case_give_the_same_canonical_principal(dc: SambaDC, typed: str) -> None:
    who = LdapAuthenticator(ad_settings(dc)).authenticate(typed, PASSWORDS["alice"])
    assert (who.name, who.dn) == ("alice", dn("alice"))


def test_nested_groups_come_from_the_server_in_chain(dc: SambaDC) -> None:
    who = LdapAuthenticator(ad_settings(dc)).authenticate("carol", PASSWORDS["carol"])
    assert who.groups == groups(
        group_dn("team-web"), group_dn("kvm-ops"), DOMAIN_USERS, BUILTIN_USERS
    )


def test_group_search_by_in_chain_alone_without_member_of(dc: SambaDC) -> None:
    settings = ad_settings(dc, group_membership="search")
    who = LdapAuthenticator(settings).authenticate("carol", PASSWORDS["carol"])
    assert who.groups == groups(
        group_dn("team-web"), group_dn("kvm-ops"), DOMAIN_USERS, BUILTIN_USERS
    )


def test_dns_with_escaped_comma_parentheses_and_star(dc: SambaDC) -> None:
    """The user's DN (`CN=Smith\\, J (ops*)`) goes into the in-chain filter escaped; her group
    (`CN=ops\\, east (tier*2)`) comes back and is nested in kvm-ops."""
    who = LdapAuthenticator(ad_settings(dc)).authenticate("jsmith", PASSWORDS["jsmith"])
    assert who.dn == ODD_USER_DN
    assert who.groups == groups(ODD_GROUP, group_dn("kvm-ops"), DOMAIN_USERS, BUILTIN_USERS)


# -- refusals -------------------------------------------------------------------------------------
def test_wrong_password_and_unknown_user(dc: SambaDC) -> None:
    auth = LdapAuthenticator(ad_settings(dc))
    wrong = refusal(auth, "alice", "not-her-password")
    assert str(wrong) == f"wrong password (AD data 52e) for {dn('alice')}"
    assert wrong.account == dn("alice") and wrong.credentials
    unknown = refusal(auth, "nobody-here", PASSWORDS["alice"])
    assert "no directory entry" in str(unknown) and unknown.account is None


def test_empty_password_sends_nothing_to_the_directory(dc: SambaDC) -> None:
    connections: list[object] = []
    auth = LdapAuthenticator(ad_settings(dc), on_connection=connections.append)
    auth.authenticate("bob", PASSWORDS["bob"])  # the spy works: service account + bob
    assert len(connections) == 2
    for user in ("bob", f"bob@{UPN_SUFFIX}", "", "Administrator"):
        with pytest.raises(LdapRefused, match="empty password"):
            auth.authenticate(user, "")
    assert len(connections) == 2


def test_disabled_filter_refuses_before_the_bind(dc: SambaDC) -> None:
    """AD refuses a disabled account's bind, so a filter run after the bind never ran on AD."""
    connections: list[object] = []
    auth = LdapAuthenticator(ad_settings(dc), on_connection=connections.append)
    refused = refusal(auth, "dave", PASSWORDS["dave"])
    assert str(refused) == f"{dn('dave')} is disabled in the directory (disabled_filter; not bound)"
    assert refused.account == dn("dave") and not refused.credentials
    assert len(connections) == 1  # the service account's: dave's password was never sent


@pytest.mark.parametrize(
    ("sam", "reason"),
    [
        ("dave", "account disabled (AD data 533)"),
        ("erin", "account expired (AD data 701)"),
        ("gina", "password must be changed before signing in (AD data 773)"),
    ],
)
def test_the_directorys_reason_for_refusing_the_bind(dc: SambaDC, sam: str, reason: str) -> None:
    auth = LdapAuthenticator(ad_settings(dc, disabled_filter=None))
    refused = refusal(auth, sam, PASSWORDS[sam])
    assert str(refused) == f"{reason} for {dn(sam)}"
    assert not refused.credentials
    # With a wrong password AD says only that: the reason is not given away.
    assert str(refusal(auth, sam, "guess")) == f"wrong password (AD data 52e) for {dn(sam)}"


def test_an_account_the_directory_locked_out(dc: SambaDC) -> None:
    """AD's own lockout (a password policy of 2 for henry): its bind says 775, even with the
    right password."""
    auth = LdapAuthenticator(ad_settings(dc))
    for _ in range(2):
        assert str(refusal(auth, "henry", "guess")).startswith("wrong password (AD data 52e)")
    refused = refusal(auth, "henry", PASSWORDS["henry"])
    assert str(refused) == f"account locked out by the directory (AD data 775) for {dn('henry')}"
    assert not refused.credentials


INJECTIONS = [
    "*",
    "al*",
    "*ice",
    ")(",
    "*)(sAMAccountName=*",
    "alice)(sAMAccountName=*",
    "admin)(|(objectClass=*",
    "*)(|(objectClass=*))(|(sAMAccountName=*",
    f"*@{UPN_SUFFIX}",
    "alice\x00",
    "\\2a",
    "\\00",
    dn("alice"),
    "CN=Smith\\, J (ops*)",
    "Smith, J (ops*)",
]


@pytest.mark.parametrize("username", INJECTIONS)
def test_filter_injection_names_resolve_to_nobody(dc: SambaDC, username: str) -> None:
    auth = LdapAuthenticator(ad_settings(dc))
    for password in (PASSWORDS["alice"], PASSWORDS["admin"], PASSWORDS["jsmith"], "x"):
        refused = refusal(auth, username, password)
        assert refused.account is None, f"{username!r} matched {refused.account}"


# -- TLS ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tls", ["starttls", "ldaps"])
def test_starttls_and_ldaps_with_the_right_ca(dc: SambaDC, tls: str) -> None:
    url = dc.ldaps_url if tls == "ldaps" else dc.ldap_url
    auth = LdapAuthenticator(ad_settings(dc, urls=(url,), tls=tls))
    assert auth.authenticate("bob", PASSWORDS["bob"]).name == "bob"


@pytest.mark.parametrize("tls", ["starttls", "ldaps"])
def test_starttls_and_ldaps_with_a_wrong_ca_are_refused(dc: SambaDC, tls: str) -> None:
    url = dc.ldaps_url if tls == "ldaps" else dc.ldap_url
    settings = ad_settings(dc, urls=(url,), tls=tls, ca_file=str(dc.wrong_ca_file))
    with pytest.raises(DirectoryUnavailable, match="certificate not trusted"):
        LdapAuthenticator(settings).authenticate("bob", PASSWORDS["bob"])


def test_ad_refuses_a_simple_bind_in_clear(dc: SambaDC) -> None:
    settings = ad_settings(dc, tls="none")
    with pytest.raises(
        DirectoryUnavailable,
        match=r"cannot bind: strongerAuthRequired; it wants TLS for a simple bind: set tls = ",
    ):
        LdapAuthenticator(settings).authenticate("bob", PASSWORDS["bob"])


# -- through SignIn: grants, audit, throttling ----------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def make_signin(
    dc: SambaDC, grants: list[Grant], throttle: Throttle | None = None, **settings: Any
) -> tuple[SignIn, list[dict[str, Any]], list[object]]:
    records: list[dict[str, Any]] = []
    connections: list[object] = []
    signin = SignIn(
        LocalAuthenticator({}),
        SessionStore(3600, 600),
        AuditTrail(records.append),
        ldap=LdapAuthenticator(ad_settings(dc, **settings), on_connection=connections.append),
        grants=GrantBook(grants),
        throttle=throttle or Throttle(),
    )
    return signin, records, connections


def test_a_grant_to_the_primary_group_matches(dc: SambaDC) -> None:
    signin, _, _ = make_signin(dc, [Grant("ReadOnly", "system", group=DOMAIN_USERS)])
    _, frank = signin.login("frank", PASSWORDS["frank"], "10.0.0.5:1")
    assert frank.roles == {"ReadOnly"}


def test_a_grant_to_a_group_dn_with_escapes_matches(dc: SambaDC) -> None:
    signin, _, _ = make_signin(dc, [Grant("Operator", "system", group=ODD_GROUP.upper())])
    _, smith = signin.login(f"jsmith@{UPN_SUFFIX}", PASSWORDS["jsmith"], "10.0.0.5:1")
    assert (smith.name, smith.roles) == ("jsmith", {"Operator"})


def test_authenticated_without_a_grant_is_refused(dc: SambaDC) -> None:
    signin, audit, _ = make_signin(dc, [Grant("SuperUser", "system", group=group_dn("kvm-ops"))])
    with pytest.raises(SignInError, match="no role is granted"):
        signin.login("alice", PASSWORDS["alice"], "10.0.0.5:1")
    assert audit[-1]["result"] == "denied" and "no role is granted to alice" in audit[-1]["detail"]


def test_wrong_and_empty_passwords_are_refused_and_audited(dc: SambaDC) -> None:
    signin, audit, connections = make_signin(dc, [Grant("ReadOnly", "system", user="alice")])
    with pytest.raises(SignInError, match=f"^{REFUSED}$"):
        signin.login("alice", "wrong", "10.0.0.5:1")
    assert audit[-1]["detail"] == (
        f"bad credentials (ldap: wrong password (AD data 52e) for {dn('alice')})"
    )
    opened = len(connections)
    with pytest.raises(SignInError, match="both required"):
        signin.login("alice", "", "10.0.0.5:1")
    assert len(connections) == opened and audit[-1]["result"] == "denied"


@pytest.mark.parametrize("disabled_filter", [AD_DISABLED, None])
def test_a_disabled_account_is_audited_as_disabled(
    dc: SambaDC, disabled_filter: str | None
) -> None:
    signin, audit, _ = make_signin(
        dc, [Grant("SuperUser", "system", group=group_dn("kvm-admins"))],
        disabled_filter=disabled_filter,
    )  # fmt: skip
    with pytest.raises(SignInError, match=f"^{REFUSED}$"):  # the caller hears no more
        signin.login("dave", PASSWORDS["dave"], "10.0.0.5:1")
    why = (
        f"{dn('dave')} is disabled in the directory (disabled_filter; not bound)"
        if disabled_filter
        else f"account disabled (AD data 533) for {dn('dave')}"
    )
    assert audit[-1]["result"] == "denied"
    assert audit[-1]["detail"] == f"account may not sign in (ldap: {why})"


@pytest.mark.parametrize(
    ("first", "second"), [("alice", f"alice@{UPN_SUFFIX}"), (f"alice@{UPN_SUFFIX}", "alice")]
)
def test_the_lock_holds_across_name_forms(dc: SambaDC, first: str, second: str) -> None:
    clock = Clock()
    throttle = Throttle(5, 300, 600, 100, clock=clock)
    signin, audit, connections = make_signin(
        dc, [Grant("ReadOnly", "system", user="alice")], throttle
    )
    for _ in range(3):
        with pytest.raises(SignInError, match=f"^{REFUSED}$"):
            signin.login(first, "guess", "10.0.0.5:1")
    with pytest.raises(SignInError, match=f"^{REFUSED}$"):
        signin.login(second, "guess", "10.0.0.6:1")
    # The fifth guess, under either name, locks the account (one DN): no second set of guesses.
    with pytest.raises(SignInError, match=r"locked until .* \(try again in about 10 min\)"):
        signin.login(second, "guess", "10.0.0.6:1")
    assert audit[-1]["detail"].startswith(f"locked after 5 failures of account {dn('alice')}")
    for typed in (first, second, "ALICE", f"Alice@{UPN_SUFFIX}"):
        before = len(connections)
        with pytest.raises(SignInError, match=f"too many failed sign-ins for user {typed}"):
            signin.login(typed, PASSWORDS["alice"], "10.0.0.7:1")
        # Refused before the password was tried: only the service account searched.
        assert len(connections) - before == 1
        assert audit[-1]["detail"].startswith(f"throttled (account {dn('alice')}): ")
    clock.now += 601
    _, alice = signin.login(second, PASSWORDS["alice"], "10.0.0.7:1")
    assert alice.name == "alice"


def test_five_guesses_under_one_name_lock_the_other_name_too(dc: SambaDC) -> None:
    """The issue's case: `alice` locked, `alice@corp.example.com` still signed in."""
    throttle = Throttle(5, 300, 600, 100, clock=Clock())
    grants = [Grant("ReadOnly", "system", user="alice"), Grant("ReadOnly", "system", user="bob")]
    signin, _, _ = make_signin(dc, grants, throttle)
    for _ in range(5):
        with pytest.raises(SignInError):
            signin.login("alice", "guess", "10.0.0.5:1")
    with pytest.raises(SignInError, match="too many failed sign-ins"):
        signin.login(f"alice@{UPN_SUFFIX}", PASSWORDS["alice"], "10.0.0.8:1")
    _, bob = signin.login("bob", PASSWORDS["bob"], "10.0.0.8:1")  # others are not affected
    assert bob.name == "bob"
