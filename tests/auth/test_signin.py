"""SignIn: LDAP then grants, break-glass when the directory is down, throttling, the audit trail."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from auth.audit import AuditTrail, verify_chain
from auth.grants import Grant, GrantBook
from auth.ldap_auth import LdapAuthenticator
from auth.local_users import LocalAuthenticator, LocalUser
from auth.passwords import hash_password
from auth.permissions import Permission
from auth.principal import ObjectRef, ScopedRole, authorize
from auth.sessions import SessionStore
from auth.throttle import Throttle
from ovtui.engine.signin import BREAK_GLASS, SignIn, SignInError
from tests.auth.conftest import settings_for
from tests.auth.slapd_server import GROUPS, PASSWORDS, PEOPLE, Slapd, free_port

pytestmark = pytest.mark.slow  # a real slapd

ADMINS = f"cn=kvm-admins,{GROUPS}"
GRANTS = [
    Grant("ClusterAdmin", "cluster", "prod-a", group=ADMINS.upper()),  # DN case does not matter
    Grant("Operator", "system", group=f"cn=kvm-ops,{GROUPS}"),
    Grant("Auditor", "system", group=f"cn=kvm-auditors,{GROUPS}"),
    Grant("ReadOnly", "vm", "web-a1", user="frank"),
]


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def make_signin(
    slapd: Slapd, *, urls: tuple[str, ...] | None = None, grants: list[Grant] = GRANTS, **kw: Any
) -> tuple[SignIn, list[dict[str, Any]]]:
    records: list[dict[str, Any]] = []
    users = {
        "root-local": LocalUser(
            "root-local", hash_password("glass", n=2**12), frozenset({"SuperUser"})
        )
    }
    settings = settings_for(slapd, nested_groups="walk", **({"urls": urls} if urls else {}))
    signin = SignIn(
        LocalAuthenticator(users),
        SessionStore(3600, 600),
        AuditTrail(records.append),
        ldap=LdapAuthenticator(settings),
        grants=GrantBook(grants),
        local_names=frozenset(users),
        **kw,
    )
    return signin, records


def test_ldap_user_gets_the_grants_of_her_groups(slapd: Slapd) -> None:
    signin, audit = make_signin(slapd)
    token, alice = signin.login("alice", PASSWORDS["alice"], "10.0.0.5:40000")
    assert signin.sessions.lookup(token) == alice
    assert alice.source == "ldap" and alice.roles == frozenset()
    assert alice.grants == {ScopedRole("ClusterAdmin", "cluster", "prod-a")}
    on_a = ObjectRef("vm", "web-a1", "dc1", "prod-a", "a1")
    on_b = ObjectRef("vm", "web-b1", "dc1", "prod-b", "b1")
    assert authorize(alice, Permission.VM_MIGRATE, on_a)
    assert not authorize(alice, Permission.VM_MIGRATE, on_b)
    last = audit[-1]
    assert (last["action"], last["result"], last["actor_source"]) == ("login", "ok", "ldap")
    assert last["params"]["grants"] == ["ClusterAdmin@cluster/prod-a"]
    assert verify_chain(audit) == []


def test_nested_group_grant_applies(slapd: Slapd) -> None:
    signin, _ = make_signin(slapd)
    _, carol = signin.login("carol", PASSWORDS["carol"], "")  # team-web, inside kvm-ops
    assert carol.roles == {"Operator"}


def test_user_grant_at_vm_scope(slapd: Slapd) -> None:
    signin, _ = make_signin(slapd)
    _, frank = signin.login("frank", PASSWORDS["frank"], "")
    assert frank.grants == {ScopedRole("ReadOnly", "vm", "web-a1")}


def test_authenticated_without_any_grant_is_refused(slapd: Slapd) -> None:
    signin, audit = make_signin(slapd, grants=[])
    with pytest.raises(SignInError, match="no role is granted"):
        signin.login("alice", PASSWORDS["alice"], "")
    assert audit[-1]["result"] == "denied" and "no role is granted" in audit[-1]["detail"]


def test_group_change_takes_effect_at_next_login(slapd: Slapd) -> None:
    grants = [Grant("PowerUser", "cluster", "prod-b", group=f"cn=kvm-changing,{GROUPS}")]
    signin, _ = make_signin(slapd, grants=grants)
    with pytest.raises(SignInError, match="no role"):
        signin.login("frank", PASSWORDS["frank"], "")
    slapd.set_members("kvm-changing", [f"uid=frank,{PEOPLE}"])
    try:
        token, frank = signin.login("frank", PASSWORDS["frank"], "")
        assert frank.grants == {ScopedRole("PowerUser", "cluster", "prod-b")}
    finally:
        slapd.set_members("kvm-changing", ["cn=nobody,dc=example,dc=org"])
    # The open session keeps what it was given; the next sign-in sees the change.
    assert signin.sessions.lookup(token) == frank
    with pytest.raises(SignInError, match="no role"):
        signin.login("frank", PASSWORDS["frank"], "")


@pytest.mark.parametrize("password", ["", "wrong"])
def test_refusals_are_audited_without_the_password(slapd: Slapd, password: str) -> None:
    signin, audit = make_signin(slapd)
    with pytest.raises(SignInError):
        signin.login("alice", password, "10.0.0.5:1")
    assert audit[-1]["result"] == "denied" and audit[-1]["actor"] == "alice"


def test_directory_down_break_glass_still_works_and_is_loud(
    slapd: Slapd, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"ldap://127.0.0.1:{free_port()}"
    signin, audit = make_signin(slapd, urls=(dead,))
    with pytest.raises(SignInError, match=r"directory cannot be reached.*break-glass"):
        signin.login("alice", PASSWORDS["alice"], "10.0.0.5:1")
    assert audit[-1]["result"] == "failed" and "directory unavailable" in audit[-1]["detail"]
    with caplog.at_level(logging.WARNING):
        token, root = signin.login("root-local", "glass", "10.0.0.9:2")
    assert root.source == "local" and root.roles == {"SuperUser"}
    assert signin.sessions.lookup(token) == root
    rec = audit[-1]
    assert (rec["result"], rec["actor_source"], rec["detail"]) == ("ok", "local", BREAK_GLASS)
    assert any(
        BREAK_GLASS in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records
    )


def test_a_local_name_never_falls_through_to_the_directory(slapd: Slapd) -> None:
    signin, audit = make_signin(slapd)
    with pytest.raises(SignInError):
        signin.login("root-local", PASSWORDS["alice"], "")
    assert audit[-1]["detail"] == "bad credentials (local)"


def test_throttle_locks_a_user_then_lets_them_back(slapd: Slapd) -> None:
    clock = Clock()
    signin, audit = make_signin(slapd, throttle=Throttle(5, 300, 600, 100, clock=clock))
    for _ in range(4):
        with pytest.raises(SignInError, match=r"unknown user or wrong password$"):
            signin.login("alice", "wrong", "10.0.0.5:1")
    with pytest.raises(SignInError, match=r"locked until .* \(try again in about 10 min\)"):
        signin.login("alice", "wrong", "10.0.0.5:1")
    # Locked: even the right password is refused, without asking the directory.
    with pytest.raises(SignInError, match="too many failed sign-ins for user alice"):
        signin.login("alice", PASSWORDS["alice"], "10.0.0.6:1")
    assert audit[-1]["detail"].startswith("throttled:")
    assert any(r["detail"].startswith("locked after 5 failures") for r in audit)
    signin.login("bob", PASSWORDS["bob"], "10.0.0.5:1")  # others are not affected
    clock.now += 601
    signin.login("alice", PASSWORDS["alice"], "10.0.0.5:1")


def test_throttle_per_source(slapd: Slapd) -> None:
    clock = Clock()
    signin, _ = make_signin(slapd, throttle=Throttle(5, 300, 600, 3, clock=clock))
    for user in ("u1", "u2", "u3"):
        with pytest.raises(SignInError):
            signin.login(user, "guess", "192.0.2.7:1234")
    with pytest.raises(SignInError, match=r"source 192\.0\.2\.7"):
        signin.login("alice", PASSWORDS["alice"], "192.0.2.7:999")
    signin.login("alice", PASSWORDS["alice"], "192.0.2.8:1")  # another address is fine


def test_no_password_ever_reaches_logs_or_the_audit(
    slapd: Slapd, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Sup3r-Secret-Do-Not-Log"
    dead = f"ldap://127.0.0.1:{free_port()}"
    caplog.set_level(logging.DEBUG)
    for urls in ((slapd.ldap_url,), (dead,)):
        signin, audit = make_signin(slapd, urls=urls)
        for user in ("alice", "nobody", "admin)(uid=*", "root-local"):
            with pytest.raises(SignInError):
                signin.login(user, secret, "10.0.0.5:1")
        assert secret not in repr(audit)
    assert secret not in caplog.text
