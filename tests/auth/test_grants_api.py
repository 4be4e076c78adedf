"""GET/POST/DELETE /api/v1/grants: only permissions.manage, persisted, effective at next sign-in."""

from __future__ import annotations

from tests.auth.conftest import BREAK_GLASS_PW, BREAK_GLASS_USER, MakeApi

LOCAL = """
[[auth.grants]]
user = "viewer"
role = "ReadOnly"
"""


async def test_grants_crud_with_rbac(make_api: MakeApi) -> None:
    api = await make_api(LOCAL)
    admin = await api.token(BREAK_GLASS_USER, BREAK_GLASS_PW)

    listed = (await api.http.get("/api/v1/grants", headers=admin)).json()
    assert listed == [
        {"id": "config-0", "origin": "config", "user": "viewer", "role": "ReadOnly",
         "scope": "system", "object": ""}
    ]  # fmt: skip

    body = {"group": "cn=ops,dc=example,dc=org", "role": "PowerUser", "scope": "cluster",
            "object": "prod-b"}  # fmt: skip
    made = await api.http.post("/api/v1/grants", json=body, headers=admin)
    assert made.status_code == 201, made.text
    grant = made.json()
    assert grant["origin"] == "api" and grant["created_by"] == BREAK_GLASS_USER
    assert "next sign-in" in grant["result"]
    ids = [g["id"] for g in (await api.http.get("/api/v1/grants", headers=admin)).json()]
    assert ids == ["config-0", grant["id"]]
    assert api.engine.store.table("grants").all()[0]["role"] == "PowerUser"  # persisted

    # Config grants are changed in the file; unknown ids are 404.
    resp = await api.http.delete("/api/v1/grants/config-0", headers=admin)
    assert resp.status_code == 409 and "config file" in resp.json()["error"]["message"]
    assert (await api.http.delete("/api/v1/grants/nope", headers=admin)).status_code == 404

    gone = await api.http.delete(f"/api/v1/grants/{grant['id']}", headers=admin)
    assert gone.status_code == 200
    assert api.engine.store.table("grants").all() == []

    actions = [(r["action"], r["result"]) for r in api.engine.audit_log.tail(10)]
    assert ("grants.add", "ok") in actions and ("grants.delete", "ok") in actions


async def test_invalid_grants_are_refused_with_a_reason(make_api: MakeApi) -> None:
    api = await make_api("")
    admin = await api.token(BREAK_GLASS_USER, BREAK_GLASS_PW)
    cases = [
        ({"user": "x", "role": "Wizard"}, "role: unknown 'Wizard'"),
        ({"user": "x", "role": "ReadOnly", "scope": "cluster"}, "needs object"),
        ({"user": "x", "role": "ReadOnly", "scope": "cluster", "object": "prod-z"}, "no cluster"),
        ({"user": "x", "role": "ReadOnly", "scope": "vm", "object": "web-zz"}, "no vm"),
        ({"role": "ReadOnly"}, "exactly one of group or user"),
        ({"user": "x", "group": "cn=g", "role": "ReadOnly"}, "exactly one of group or user"),
        ({"user": "x", "role": "ReadOnly", "scope": "galaxy", "object": "m31"}, "scope: unknown"),
        ({"user": "x", "role": "ReadOnly", "object": "prod-a"}, "takes no object"),
    ]
    for body, reason in cases:
        resp = await api.http.post("/api/v1/grants", json=body, headers=admin)
        assert resp.status_code == 400, (body, resp.text)
        assert reason in resp.json()["error"]["message"]
    assert api.engine.store.table("grants").all() == []


async def test_only_permissions_manage_may_touch_grants(make_api: MakeApi) -> None:
    api = await make_api(LOCAL, local={"viewer": "v"})
    viewer = await api.token("viewer", "v")
    for method, path in (("GET", "/api/v1/grants"), ("POST", "/api/v1/grants"),
                         ("DELETE", "/api/v1/grants/config-0")):  # fmt: skip
        body = {"user": "viewer", "role": "SuperUser"} if method == "POST" else None
        resp = await api.http.request(method, path, headers=viewer, json=body)
        assert resp.status_code == 403, (method, path, resp.text)
    denied = [r for r in api.engine.audit_log.tail(3) if r["result"] == "denied"]
    assert len(denied) == 3 and {r["action"] for r in denied} == {"permissions.manage"}
    assert api.engine.store.table("grants").all() == []


async def test_a_new_grant_applies_at_the_next_sign_in(make_api: MakeApi) -> None:
    api = await make_api(LOCAL, local={"viewer": "v", "nobody": "n"})
    admin = await api.token(BREAK_GLASS_USER, BREAK_GLASS_PW)
    before = await api.token("viewer", "v")
    assert (await api.login("nobody", "n")).status_code == 401  # no grant at all yet

    for user in ("viewer", "nobody"):
        body = {"user": user, "role": "ClusterAdmin", "scope": "cluster", "object": "prod-a"}
        assert (await api.http.post("/api/v1/grants", json=body, headers=admin)).status_code == 201

    # The open session keeps what it had at sign-in ...
    assert (await api.http.post("/api/v1/vms/web-a1/suspend", headers=before)).status_code == 403
    # ... the next sign-in has the new grant.
    after = await api.token("viewer", "v")
    assert (await api.http.post("/api/v1/vms/web-a1/suspend", headers=after)).status_code == 200
    nobody = await api.token("nobody", "n")
    vms = (await api.http.get("/api/v1/vms", headers=nobody)).json()
    assert {v["name"] for v in vms} == {"web-a1", "web-a2"}


SCOPED = """
[[auth.grants]]
user = "carol"
role = "ClusterAdmin"
scope = "cluster"
object = "prod-a"
"""


async def test_a_cluster_grant_shows_in_whoami_and_manages_only_that_cluster(
    make_api: MakeApi,
) -> None:
    api = await make_api(SCOPED, local={"carol": "c"})
    carol = await api.token("carol", "c")
    me = (await api.http.get("/api/v1/sessions/current", headers=carol)).json()
    assert me["roles"] == [] and me["permissions"] == []
    assert me["grants"] == [{"role": "ClusterAdmin", "scope": "cluster", "object": "prod-a"}]

    mode = {"mode": "off"}
    own = await api.http.put("/api/v1/policies/prod-a/mode", json=mode, headers=carol)
    assert own.status_code == 200, own.text
    other = await api.http.put("/api/v1/policies/prod-b/mode", json=mode, headers=carol)
    assert other.status_code == 403 and "cluster prod-b" in other.json()["error"]["message"]
    missing = await api.http.put("/api/v1/policies/prod-z/mode", json=mode, headers=carol)
    assert missing.status_code == 404 and "prod-a" in missing.json()["error"]["message"]
