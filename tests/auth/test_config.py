"""[auth] in ovtui.toml: ldap, grants, throttle, audit_syslog are checked before anything runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from auth.ldap_auth import DirectoryUnavailable, LdapAuthenticator
from auth.ldap_config import LdapSettings
from auth.principal import ScopedRole
from ovtui.config import ConfigError, load_config
from ovtui.config.load import parse_config
from ovtui.demo import DEMO_PASSWORD, DEMO_USERS, prepare_demo
from ovtui.engine import Engine
from ovtui.testdriver_fleet import write_fleet
from tests.auth.conftest import two_cluster_spec

LDAP = {
    "urls": ["ldaps://dc1.example.org", "ldaps://dc2.example.org:636"],
    "ca_file": "/etc/ovtui/ca.pem",
    "bind_dn": "cn=svc,dc=example,dc=org",
    "bind_password": {"file": "/etc/ovtui/ldap.secret"},
    "user_search_base": "ou=people,dc=example,dc=org",
}


def auth(**section: object) -> dict[str, object]:
    # prod-a exists: a grant on a cluster the config does not define is refused (crossrefs).
    return {
        "auth": section,
        "datacenters": [{"name": "dc1"}],
        "clusters": [{"name": "prod-a", "datacenter": "dc1", "cpu_model": "Skylake-Server"}],
    }


def problems(raw: dict[str, object]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, source="ovtui.toml")
    return str(info.value)


def test_a_full_example_loads() -> None:
    ad = {
        **LDAP,
        "user_search_filter": "(&(objectClass=user)(|(sAMAccountName={username})"
        "(userPrincipalName={username})))",
        "name_attribute": "sAMAccountName",
        "disabled_filter": "(userAccountControl:1.2.840.113556.1.4.803:=2)",
        "groups": {"search_base": "dc=example,dc=org", "membership": "member_of",
                   "nested": "in_chain"},
    }  # fmt: skip
    config = parse_config(
        auth(
            ldap=ad,
            grants=[
                {"group": "cn=kvm-admins,dc=example,dc=org", "role": "ClusterAdmin",
                 "scope": "cluster", "object": "prod-a"},
                {"user": "erin", "role": "Auditor"},
            ],
            throttle={"max_failures": 3, "lockout_seconds": 60},
            audit_syslog="udp://127.0.0.1:514",
        )
    )  # fmt: skip
    assert config.auth.ldap is not None and config.auth.ldap.groups.nested == "in_chain"
    assert config.auth.grants[0].object == "prod-a" and config.auth.throttle.max_failures == 3


@pytest.mark.parametrize(
    ("ldap", "message"),
    [
        ({"tls": "none"}, 'tls = "none" sends passwords in clear'),
        ({"tls": "starttls"}, 'tls = "starttls" needs ldap:// URLs'),
        ({"urls": ["http://x"]}, "is not ldap://HOST"),
        ({"urls": []}, "urls"),
        ({"user_dn_template": "uid={username},dc=x"}, "exactly one of user_search_base"),
        ({"user_search_filter": "uid={username}"}, "not an LDAP filter"),
        ({"user_search_filter": "(uid=alice)"}, "must contain {username}"),
        ({"bind_password": None}, "bind_dn and bind_password go together"),
        ({"bind_password": {"file": "/x", "env": "Y"}}, "exactly one of file"),
        ({"groups": {"nested": "walk"}}, "needs search_base"),
        ({"groups": {"search_filter": "(member=x)"}}, "{user_dn} or {username}"),
        ({"timeout": 3}, "unknown key"),
    ],
)
def test_ldap_mistakes_are_named(ldap: dict[str, object], message: str) -> None:
    raw = {k: v for k, v in {**LDAP, **ldap}.items() if v is not None}
    assert message in problems(auth(ldap=raw))


def test_plain_ldap_needs_the_explicit_insecure_flag() -> None:
    raw = {**LDAP, "urls": ["ldap://lab"], "tls": "none", "allow_insecure": True}
    assert parse_config(auth(ldap=raw)).auth.ldap is not None


@pytest.mark.parametrize(
    ("grant", "message"),
    [
        ({"user": "a", "role": "God"}, "auth.grants[0].role: not a role; use one of SuperUser"),
        ({"user": "a", "role": "ReadOnly", "scope": "cluster"}, "needs object"),
        ({"group": "cn=x", "user": "a", "role": "ReadOnly"}, "exactly one of group or user"),
        ({"user": "a", "role": "ReadOnly", "scope": "rack", "object": "r1"}, "scope"),
    ],
)
def test_grant_mistakes_are_named(grant: dict[str, str], message: str) -> None:
    out = problems(auth(grants=[grant]))
    assert "auth.grants[0]" in out and message in out


def test_syslog_target_is_checked() -> None:
    assert "not a syslog target" in problems(auth(audit_syslog="syslog.example.org"))


def test_the_demo_users_get_their_roles_from_grants(tmp_path: Path) -> None:
    config = load_config(prepare_demo(tmp_path / "demo"))
    engine = Engine(config)  # not started: sign-in needs no fleet
    try:
        for name, role in DEMO_USERS.items():
            _, who = engine.signin.login(name, DEMO_PASSWORD, "test")
            if name == "clusteradmin":
                assert who.roles == frozenset()
                assert who.grants == {ScopedRole("ClusterAdmin", "cluster", "prod-a")}
            else:
                assert who.roles == {role}, name
    finally:
        engine.state.close()  # its store and its logs


def test_a_missing_ca_file_stops_the_engine_with_a_config_error(tmp_path: Path) -> None:
    path = write_fleet(two_cluster_spec(), tmp_path)
    with path.open("a") as fh:
        fh.write(
            "\n[auth]\n[auth.ldap]\n"
            'urls = ["ldaps://127.0.0.1:1"]\nca_file = "/nonexistent/ca.pem"\n'
            'user_dn_template = "uid={username},dc=x"\n'
        )
    config = load_config(path)
    with pytest.raises(ConfigError, match=r"auth\.ldap\.ca_file: /nonexistent/ca\.pem: no such"):
        Engine(config)


def _config_with_ca_file(directory: Path, ca_file: Path) -> Path:
    path = write_fleet(two_cluster_spec(), directory)
    with path.open("a") as fh:
        fh.write(
            f'\n[auth.ldap]\nurls = ["ldaps://127.0.0.1:1"]\nca_file = "{ca_file}"\n'
            'user_dn_template = "uid={username},dc=x"\n'
        )
    return path


NOT_A_CA = {
    "empty": "",
    "text": "not a certificate\n",
    "a key, no certificate": "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n"
    "-----END PRIVATE KEY-----\n",
}


@pytest.mark.parametrize("content", NOT_A_CA.values(), ids=NOT_A_CA.keys())
def test_a_ca_file_without_a_certificate_stops_the_engine_naming_the_key(
    tmp_path: Path, content: str
) -> None:
    """It exists, so it used to pass; then every sign-in failed with NO_CERTIFICATE_OR_CRL_FOUND."""
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(content)
    config = load_config(_config_with_ca_file(tmp_path, ca_file))
    with pytest.raises(ConfigError) as info:
        Engine(config)
    message = str(info.value)
    assert message.startswith(
        f"{config.source}: auth.ldap.ca_file: {ca_file} holds no usable CA certificate ("
    )
    assert message.endswith(
        "; give a PEM file with the certificate of the CA that signed the directory's server "
        "certificates"
    )
    if not content:
        assert "(NO_CERTIFICATE_OR_CRL_FOUND)" in message


def test_ovtui_engine_exits_2_on_a_ca_file_without_a_certificate(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("")
    config = _config_with_ca_file(tmp_path, ca_file)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run(
        [sys.executable, "-m", "ovtui.cli.main", "engine", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,  # the old code started the engine, which then ran until killed
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("ovtui: configuration error:\n")
    assert f"{config}: auth.ldap.ca_file: {ca_file} holds no usable CA certificate" in done.stderr


def test_an_unreadable_bind_password_is_a_clear_directory_error() -> None:
    def missing() -> str:
        raise LookupError("environment variable LDAP_PW is not set")

    settings = LdapSettings(
        urls=("ldap://127.0.0.1:1",),
        tls="none",
        bind_dn="cn=svc",
        bind_password=missing,
        user_search_base="dc=x",
    )
    with pytest.raises(DirectoryUnavailable, match="bind_password cannot be read: environment"):
        LdapAuthenticator(settings).authenticate("alice", "pw")
