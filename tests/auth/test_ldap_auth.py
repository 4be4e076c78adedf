"""LdapAuthenticator against a real OpenLDAP slapd: credentials, injection, TLS, outages, groups."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from auth.grants import normalize_dn
from auth.ldap_auth import DirectoryUnavailable, LdapAuthenticator, LdapRefused, fill
from auth.ldap_config import IN_CHAIN_FILTER
from tests.auth.conftest import settings_for
from tests.auth.slapd_server import BASE, GROUPS, PASSWORDS, PEOPLE, Slapd, free_port

pytestmark = pytest.mark.slow  # a real slapd; the injection matrix alone binds ~150 times


def group(cn: str) -> str:
    return normalize_dn(f"cn={cn},{GROUPS}")


def wait_for_log(server: Slapd, pattern: str, count: int, timeout: float = 3) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = server.count(pattern)
        if seen >= count:
            return seen
        time.sleep(0.02)
    return server.count(pattern)


def test_good_password_gives_identity_and_groups(slapd: Slapd) -> None:
    who = LdapAuthenticator(settings_for(slapd)).authenticate("alice", PASSWORDS["alice"])
    assert who.name == "alice"
    assert who.dn == f"uid=alice,{PEOPLE}"
    assert who.groups == {group("kvm-admins")}


def test_login_name_is_case_insensitive_but_the_principal_is_canonical(slapd: Slapd) -> None:
    who = LdapAuthenticator(settings_for(slapd)).authenticate("ALICE", PASSWORDS["alice"])
    assert who.name == "alice"


def test_bad_password_and_unknown_user_are_refused(slapd: Slapd) -> None:
    auth = LdapAuthenticator(settings_for(slapd))
    with pytest.raises(LdapRefused, match="wrong password"):
        auth.authenticate("alice", "not-her-password")
    with pytest.raises(LdapRefused, match="no directory entry"):
        auth.authenticate("nobody-here", PASSWORDS["alice"])


def test_empty_password_sends_no_bind_at_all(slapd: Slapd) -> None:
    """An empty password is refused before any connection: slapd sees no new connection or bind."""
    connections: list[object] = []
    auth = LdapAuthenticator(settings_for(slapd), on_connection=connections.append)
    auth.authenticate("bob", PASSWORDS["bob"])  # a normal sign-in first: the spy and log work
    binds = wait_for_log(slapd, r"BIND dn=\"uid=bob,", 1)
    accepts = slapd.count(r" ACCEPT from ")
    assert len(connections) == 2 and binds >= 1
    for user in ("bob", "alice", "", "nobody"):
        with pytest.raises(LdapRefused, match="empty"):
            auth.authenticate(user, "")
    time.sleep(0.3)
    assert len(connections) == 2
    assert slapd.count(r" ACCEPT from ") == accepts
    assert slapd.count(r"BIND dn=\"uid=bob,") == binds


INJECTIONS = [
    "*",
    ")(",
    "\\00",
    "\x00",
    "alice\x00",
    "admin)(|(uid=*",
    "alice)(uid=*",
    "*)(uid=*))(|(uid=*",
    "al*",
    "*ice",
    "alice)(|(objectClass=*)",
    "uid=alice," + PEOPLE,
]


@pytest.mark.parametrize("username", INJECTIONS)
@pytest.mark.parametrize("mode", ["search", "template"])
def test_injection_in_the_user_name_never_signs_anyone_in(
    slapd: Slapd, username: str, mode: str
) -> None:
    settings = settings_for(slapd)
    if mode == "template":
        settings = replace(
            settings, user_search_base=None, user_dn_template=f"uid={{username}},{PEOPLE}"
        )
    auth = LdapAuthenticator(settings)
    for password in (PASSWORDS["alice"], PASSWORDS["admin"], "x"):
        with pytest.raises(LdapRefused):
            auth.authenticate(username, password)


def test_filter_values_reach_slapd_escaped(slapd: Slapd) -> None:
    auth = LdapAuthenticator(settings_for(slapd))
    with pytest.raises(LdapRefused):
        auth.authenticate("admin)(|(uid=*", PASSWORDS["admin"])
    seen = wait_for_log(slapd, r"(?i)\(uid=admin\\29\\28\|\\28uid=\\2a\)", 1)
    assert seen >= 1, "the filter slapd received was not escaped"


def test_fill_is_one_pass_and_escapes() -> None:
    out = fill("(&(a={username})(b={user_dn}))", username="{user_dn}*", user_dn="x)(y")
    assert out == "(&(a={user_dn}\\2a)(b=x\\29\\28y))"


def test_in_chain_filter_for_active_directory_is_escaped() -> None:
    dn = "CN=Smith\\, J (ops),OU=People,DC=corp"
    assert fill(IN_CHAIN_FILTER, user_dn=dn) == (
        "(member:1.2.840.113556.1.4.1941:=CN=Smith\\5c, J \\28ops\\29,OU=People,DC=corp)"
    )


def test_disabled_account_is_refused_even_with_its_password(slapd: Slapd) -> None:
    with pytest.raises(LdapRefused, match="disabled"):
        LdapAuthenticator(settings_for(slapd)).authenticate("dave", PASSWORDS["dave"])


@pytest.mark.parametrize("tls", ["none", "starttls", "ldaps"])
def test_plain_starttls_and_ldaps(slapd: Slapd, tls: str) -> None:
    url = slapd.ldaps_url if tls == "ldaps" else slapd.ldap_url
    auth = LdapAuthenticator(settings_for(slapd, urls=(url,), tls=tls))
    assert auth.authenticate("bob", PASSWORDS["bob"]).name == "bob"


@pytest.mark.parametrize("tls", ["starttls", "ldaps"])
def test_wrong_ca_is_refused(slapd: Slapd, tls: str) -> None:
    url = slapd.ldaps_url if tls == "ldaps" else slapd.ldap_url
    settings = settings_for(slapd, urls=(url,), tls=tls, ca_file=str(slapd.wrong_ca_file))
    with pytest.raises(DirectoryUnavailable, match="certificate not trusted"):
        LdapAuthenticator(settings).authenticate("bob", PASSWORDS["bob"])


def test_a_name_the_certificate_does_not_carry_is_refused(slapd: Slapd) -> None:
    # The certificate says 127.0.0.1 and localhost; 127.0.0.2 reaches the same server.
    url = f"ldaps://127.0.0.2:{slapd.ldaps_port}"
    settings = settings_for(slapd, urls=(url,), tls="ldaps")
    with pytest.raises(DirectoryUnavailable):
        LdapAuthenticator(settings).authenticate("bob", PASSWORDS["bob"])


def test_server_down_is_a_clear_error_fast(slapd: Slapd) -> None:
    dead = f"ldap://127.0.0.1:{free_port()}"
    auth = LdapAuthenticator(settings_for(slapd, urls=(dead,)))
    started = time.monotonic()
    with pytest.raises(DirectoryUnavailable, match="no directory server answered") as info:
        auth.authenticate("bob", PASSWORDS["bob"])
    assert time.monotonic() - started < 2
    assert dead in str(info.value)
    assert PASSWORDS["bob"] not in str(info.value)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung directory)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for s in held:
        s.close()
    listener.close()


@pytest.mark.parametrize("tls", ["starttls", "ldaps"])
def test_hung_server_times_out_within_the_response_timeout(
    slapd: Slapd, silent_server: int, tls: str
) -> None:
    scheme = "ldaps" if tls == "ldaps" else "ldap"
    settings = settings_for(
        slapd, urls=(f"{scheme}://127.0.0.1:{silent_server}",), tls=tls, response_timeout=1
    )
    started = time.monotonic()
    with pytest.raises(DirectoryUnavailable, match="timed out"):
        LdapAuthenticator(settings).authenticate("bob", PASSWORDS["bob"])
    assert time.monotonic() - started < 3


def test_pool_with_a_dead_first_server_still_authenticates(slapd: Slapd) -> None:
    dead = f"ldap://127.0.0.1:{free_port()}"
    clock = [1000.0]
    auth = LdapAuthenticator(
        settings_for(slapd, urls=(dead, slapd.ldap_url)), clock=lambda: clock[0]
    )
    assert auth.authenticate("bob", PASSWORDS["bob"]).name == "bob"
    # The dead one is tried last for a while, then first again.
    assert auth.servers_in_order() == [slapd.ldap_url, dead]
    clock[0] += 61
    assert auth.servers_in_order() == [dead, slapd.ldap_url]


def test_service_account_with_a_wrong_password_is_a_configuration_error(slapd: Slapd) -> None:
    auth = LdapAuthenticator(settings_for(slapd, bind_password=lambda: "wrong"))
    with pytest.raises(DirectoryUnavailable, match=r"service account .* cannot bind"):
        auth.authenticate("bob", PASSWORDS["bob"])


def test_direct_bind_by_dn_template(slapd: Slapd) -> None:
    settings = settings_for(
        slapd,
        bind_dn=None,
        bind_password=None,
        user_search_base=None,
        user_dn_template=f"uid={{username}},{PEOPLE}",
    )
    auth = LdapAuthenticator(settings)
    who = auth.authenticate("alice", PASSWORDS["alice"])  # reads groups as alice herself
    assert who.dn == f"uid=alice,{PEOPLE}" and who.groups == {group("kvm-admins")}
    with pytest.raises(LdapRefused):
        auth.authenticate("alice", "wrong")


def test_nested_groups_resolve_by_walking(slapd: Slapd) -> None:
    flat = LdapAuthenticator(settings_for(slapd)).authenticate("carol", PASSWORDS["carol"])
    assert flat.groups == {group("team-web")}
    walked = LdapAuthenticator(settings_for(slapd, nested_groups="walk"))
    assert walked.authenticate("carol", PASSWORDS["carol"]).groups == {
        group("team-web"),
        group("kvm-ops"),
    }


def test_posix_group_membership_by_uid(slapd: Slapd) -> None:
    who = LdapAuthenticator(settings_for(slapd)).authenticate("erin", PASSWORDS["erin"])
    assert who.groups == {group("kvm-auditors")}


def test_member_of_attribute_with_nested_walk(slapd: Slapd) -> None:
    settings = settings_for(slapd, group_membership="member_of", nested_groups="walk")
    who = LdapAuthenticator(settings).authenticate("carol", PASSWORDS["carol"])
    assert who.groups == {group("team-web"), group("kvm-ops")}


def test_a_group_change_shows_at_the_next_authentication(slapd: Slapd) -> None:
    auth = LdapAuthenticator(settings_for(slapd))
    assert auth.authenticate("frank", PASSWORDS["frank"]).groups == frozenset()
    slapd.set_members("kvm-changing", [f"uid=frank,{PEOPLE}"])
    try:
        assert auth.authenticate("frank", PASSWORDS["frank"]).groups == {group("kvm-changing")}
    finally:
        slapd.set_members("kvm-changing", [f"cn=nobody,{BASE}"])
    assert auth.authenticate("frank", PASSWORDS["frank"]).groups == frozenset()
