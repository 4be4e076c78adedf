"""Scoped grants through the API: a ClusterAdmin of prod-a acts and sees within prod-a only."""

from __future__ import annotations

import pytest

from tests.auth.conftest import BREAK_GLASS_PW, BREAK_GLASS_USER, MakeApi, ldap_toml
from tests.auth.slapd_server import GROUPS, PASSWORDS, Slapd

pytestmark = pytest.mark.slow  # a real slapd and a test-driver fleet

GRANTS = f"""
[[auth.grants]]
group = "cn=kvm-admins,{GROUPS}"
role = "ClusterAdmin"
scope = "cluster"
object = "prod-a"

[[auth.grants]]
user = "frank"
role = "Operator"
scope = "host"
object = "b1"
"""


async def test_cluster_admin_acts_on_their_cluster_only(slapd: Slapd, make_api: MakeApi) -> None:
    api = await make_api(ldap_toml(slapd) + GRANTS)
    alice = await api.token("alice", PASSWORDS["alice"])
    ok = await api.http.post("/api/v1/vms/web-a1/suspend", headers=alice)
    assert ok.status_code == 200, ok.text
    refused = await api.http.post("/api/v1/vms/web-b1/suspend", headers=alice)
    assert refused.status_code == 403
    assert "may not vm.power on vm web-b1" in refused.json()["error"]["message"]
    assert (await api.http.post("/api/v1/hosts/b1/activate", headers=alice)).status_code == 403
    assert (await api.http.get("/api/v1/vms/web-b1", headers=alice)).status_code == 403
    assert (await api.http.get("/api/v1/vms/web-a2", headers=alice)).status_code == 200
    # Both the action and the refusal are in the trail.
    trail = api.engine.audit_log.tail(5)
    assert any(r["action"] == "vm.suspend" and r["result"] == "ok" for r in trail)
    assert any(r["target"] == "vm/web-b1" and r["result"] == "denied" for r in trail)


async def test_lists_show_only_what_the_caller_may_read(slapd: Slapd, make_api: MakeApi) -> None:
    api = await make_api(ldap_toml(slapd) + GRANTS)
    alice = await api.token("alice", PASSWORDS["alice"])

    async def names(path: str, headers: dict[str, str]) -> set[str]:
        resp = await api.http.get(path, headers=headers)
        assert resp.status_code == 200, resp.text
        return {item["name"] for item in resp.json()}

    assert await names("/api/v1/vms", alice) == {"web-a1", "web-a2"}
    assert await names("/api/v1/hosts", alice) == {"a1"}
    assert await names("/api/v1/clusters", alice) == {"prod-a"}
    assert await names("/api/v1/datacenters", alice) == set()
    assert await names("/api/v1/vms?cluster=prod-b", alice) == set()

    frank = await api.token("frank", PASSWORDS["frank"])  # Operator on host b1
    assert await names("/api/v1/vms", frank) == {"web-b1"}
    assert await names("/api/v1/hosts", frank) == {"b1"}
    assert (await api.http.post("/api/v1/vms/web-b1/suspend", headers=frank)).status_code == 200
    assert (await api.http.post("/api/v1/vms/web-a1/suspend", headers=frank)).status_code == 403

    root = await api.token(BREAK_GLASS_USER, BREAK_GLASS_PW)  # system-wide SuperUser
    assert await names("/api/v1/vms", root) == {"web-a1", "web-a2", "web-b1"}


async def test_scoped_grant_does_not_open_system_wide_reads(
    slapd: Slapd, make_api: MakeApi
) -> None:
    api = await make_api(ldap_toml(slapd) + GRANTS)
    alice = await api.token("alice", PASSWORDS["alice"])
    # Event and audit logs are not filtered per object, so a scoped grant does not open them.
    assert (await api.http.get("/api/v1/events", headers=alice)).status_code == 403
    assert (await api.http.get("/api/v1/audit", headers=alice)).status_code == 403
    assert (await api.http.get("/api/v1/grants", headers=alice)).status_code == 403
