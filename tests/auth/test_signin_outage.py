"""The directory-outage message: it names a break-glass account only when there is one."""

from __future__ import annotations

from typing import Any

import pytest

from auth.audit import AuditTrail
from auth.ldap_auth import LdapAuthenticator
from auth.ldap_config import LdapSettings
from auth.local_users import LocalAuthenticator, LocalUser
from auth.passwords import hash_password
from auth.sessions import SessionStore
from ovtui.engine.signin import SignIn, SignInError
from tests.auth.slapd_server import free_port

DOWN = "the directory cannot be reached, so sign-in is not possible now (the engine log says why)"


def signin_with_a_dead_directory(users: dict[str, LocalUser]) -> tuple[SignIn, list[Any]]:
    records: list[dict[str, Any]] = []
    settings = LdapSettings(
        urls=(f"ldap://127.0.0.1:{free_port()}",),  # nothing listens there
        tls="none",
        user_dn_template="uid={username},ou=people,dc=example,dc=org",
        connect_timeout=1.0,
    )
    signin = SignIn(
        LocalAuthenticator(users),
        SessionStore(3600, 600),
        AuditTrail(records.append),
        ldap=LdapAuthenticator(settings),
        local_names=frozenset(users),
    )
    return signin, records


def test_without_local_users_the_message_promises_no_break_glass() -> None:
    signin, audit = signin_with_a_dead_directory({})
    with pytest.raises(SignInError) as info:
        signin.login("alice", "pw", "10.0.0.5:1")
    assert str(info.value) == DOWN
    assert "break-glass" not in str(info.value)
    assert audit[-1]["result"] == "failed" and "directory unavailable" in audit[-1]["detail"]


def test_with_a_local_user_the_message_says_break_glass_works() -> None:
    pw = hash_password("glass", n=2**12)
    signin, _ = signin_with_a_dead_directory(
        {"root-local": LocalUser("root-local", pw, frozenset({"SuperUser"}))}
    )
    with pytest.raises(SignInError) as info:
        signin.login("alice", "pw", "10.0.0.5:1")
    assert str(info.value) == f"{DOWN}; a local break-glass account still works"
    _, root = signin.login("root-local", "glass", "10.0.0.5:1")
    assert root.source == "local"
