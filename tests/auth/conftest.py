"""A real OpenLDAP slapd for the whole session, and engines signed in against it.

The slapd fixture installs slapd (Debian, as root) if it is missing, starts it on two loopback
ports (ldap:// with StartTLS, and ldaps://) with a throwaway CA, and stops it by PID at the end.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.ldap_config import LdapSettings
from auth.local_users import LocalUser, write_local_users
from auth.passwords import hash_password
from ovtui.api.app import create_app
from ovtui.config import load_config
from ovtui.engine import Engine
from ovtui.testdriver_fleet import (
    ClusterSpec,
    DatacenterSpec,
    FleetSpec,
    HostSpec,
    VmSpec,
    write_fleet,
)
from tests.auth import slapd_server
from tests.auth.slapd_server import GROUPS, PEOPLE, SVC_DN, SVC_PW, Slapd

BREAK_GLASS_USER, BREAK_GLASS_PW = "root-local", "break-glass-pw"


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    root = tmp_path_factory.mktemp("slapd")
    try:
        server = slapd_server.build(root)
        server.start()
    except slapd_server.SlapdUnavailable as exc:
        pytest.fail(f"cannot run the OpenLDAP test server: {exc}", pytrace=False)
    yield server
    server.stop()


def settings_for(server: Slapd, **overrides: Any) -> LdapSettings:
    """Search-then-bind over StartTLS with the test CA: the configuration most sites want."""
    base = LdapSettings(
        urls=(server.ldap_url,),
        tls="starttls",
        ca_file=str(server.ca_file),
        bind_dn=SVC_DN,
        bind_password=lambda: SVC_PW,
        user_search_base=PEOPLE,
        user_search_filter="(&(objectClass=inetOrgPerson)(uid={username}))",
        disabled_filter="(employeeType=disabled)",
        group_search_base=GROUPS,
        connect_timeout=2.0,
        response_timeout=1.5,  # a float on purpose: ldap3 wants whole seconds
    )
    return replace(base, **overrides)


def two_cluster_spec() -> FleetSpec:
    def host(name: str, cluster: str, *vms: str) -> HostSpec:
        specs = tuple(VmSpec(v, 1, 1024, "web") for v in vms)
        return HostSpec(name, cluster, 8, 32768, "Skylake-Server", 2400, specs)

    return FleetSpec(
        (DatacenterSpec("dc1"),),
        (
            ClusterSpec("prod-a", "dc1", "Skylake-Server"),
            ClusterSpec("prod-b", "dc1", "Skylake-Server"),
        ),
        (host("a1", "prod-a", "web-a1", "web-a2"), host("b1", "prod-b", "web-b1")),
    )


def ldap_toml(server: Slapd, *, extra: str = "") -> str:
    return f"""
[auth.ldap]
urls = ["{server.ldap_url}"]
tls = "starttls"
ca_file = "{server.ca_file}"
bind_dn = "{SVC_DN}"
bind_password = {{ env = "OVTUI_TEST_LDAP_BIND" }}
user_search_base = "{PEOPLE}"
disabled_filter = "(employeeType=disabled)"
connect_timeout_seconds = 2
response_timeout_seconds = 2
{extra}
[auth.ldap.groups]
search_base = "{GROUPS}"
nested = "walk"
"""


@dataclass
class Api:
    engine: Engine
    http: httpx.AsyncClient

    async def login(self, user: str, password: str) -> httpx.Response:
        return await self.http.post(
            "/api/v1/sessions", json={"username": user, "password": password}
        )

    async def token(self, user: str, password: str) -> dict[str, str]:
        resp = await self.login(user, password)
        assert resp.status_code == 200, resp.text
        return {"Authorization": f"Bearer {resp.json()['token']}"}


MakeApi = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[MakeApi]:
    """make_api(auth_toml, local={name: password}) -> an engine on a two-cluster fleet and an
    HTTP client for its API.

    The [auth] section gets a local users file with one break-glass SuperUser (plus the `local`
    accounts, which have no roles of their own); auth_toml adds to that section.
    """
    monkeypatch.setenv("OVTUI_TEST_LDAP_BIND", SVC_PW)
    made: list[Api] = []

    async def make(auth_toml: str, local: dict[str, str] | None = None) -> Api:
        root = Path(tempfile.mkdtemp(prefix="ovt-auth-"))
        users = root / "local-users.toml"
        pw = hash_password(BREAK_GLASS_PW, n=2**12)
        accounts = [LocalUser(BREAK_GLASS_USER, pw, frozenset({"SuperUser"}))]
        accounts += [
            LocalUser(name, hash_password(secret, n=2**12), frozenset())
            for name, secret in (local or {}).items()
        ]
        write_local_users(users, accounts)
        path = write_fleet(two_cluster_spec(), root)
        with path.open("a") as fh:
            fh.write(f'\n[auth]\nlocal_users_file = "{users}"\n{auth_toml}\n')
        engine = Engine(load_config(path))
        await engine.start()
        await engine.fleet.wait_connected(10)
        transport = httpx.ASGITransport(app=create_app(engine))
        api = Api(engine, httpx.AsyncClient(transport=transport, base_url="http://ovtui"))
        made.append(api)
        return api

    yield make
    for api in made:
        await api.http.aclose()
        try:
            # Engine.stop() right after a VM action can hang (the fleet's poll task may miss
            # its cancellation): do not let that hang the suite; release the store at least.
            await asyncio.wait_for(api.engine.stop(), 10)
        except TimeoutError:
            api.engine.store.close()
