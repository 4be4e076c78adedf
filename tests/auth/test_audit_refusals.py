"""Every refused or failed request that reached a route is exactly one audit record."""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
import pytest

from auth.refusal_limit import RefusalLimit
from ovtui.api.app import create_app
from ovtui.api.refusal_audit import ANONYMOUS
from ovtui.cli.main import main
from tests.auth.conftest import BREAK_GLASS_PW, BREAK_GLASS_USER, Api, MakeApi

VIEWER_PW = "viewer-pw"
GRANTS = """
[[auth.grants]]
user = "viewer"
role = "ReadOnly"
"""
ADMIN, VIEWER, NOBODY = "admin", "viewer", "nobody"
# who, method, path, JSON body (or raw bytes), status; then what the one record says:
# (actor, action, result), or None for "no record".
CASES: list[tuple[str, str, str, Any, int, tuple[str, str, str] | None]] = [
    (ADMIN, "POST", "/api/v1/policies/prod-a/apply", {"plan": "nonexistent"}, 404,
     (BREAK_GLASS_USER, "POST /api/v1/policies/{cluster}/apply", "refused")),
    (ADMIN, "POST", "/api/v1/policies/prod-a/apply-step", {"plan": "nonexistent", "step": 0}, 404,
     (BREAK_GLASS_USER, "POST /api/v1/policies/{cluster}/apply-step", "refused")),
    (ADMIN, "POST", "/api/v1/policies/nosuch/run", None, 404,
     (BREAK_GLASS_USER, "POST /api/v1/policies/{cluster}/run", "refused")),
    (ADMIN, "PUT", "/api/v1/policies/prod-a/mode", {"mode": "bogus"}, 422,
     (BREAK_GLASS_USER, "PUT /api/v1/policies/{cluster}/mode", "refused")),
    (ADMIN, "DELETE", "/api/v1/grants/config-0", None, 409,
     (BREAK_GLASS_USER, "DELETE /api/v1/grants/{grant_id}", "refused")),
    (ADMIN, "DELETE", "/api/v1/grants/nope", None, 404,
     (BREAK_GLASS_USER, "DELETE /api/v1/grants/{grant_id}", "refused")),
    (ADMIN, "POST", "/api/v1/grants", {"user": "x", "role": "Nope"}, 400,
     (BREAK_GLASS_USER, "POST /api/v1/grants", "refused")),
    # A body that is not JSON is refused before the token is checked: the token still names
    # the caller.
    (ADMIN, "POST", "/api/v1/grants", b"{not json", 422,
     (BREAK_GLASS_USER, "POST /api/v1/grants", "refused")),
    (ADMIN, "GET", "/api/v1/vms/no-such-vm", None, 404,
     (BREAK_GLASS_USER, "GET /api/v1/vms/{vm}", "refused")),
    (ADMIN, "POST", "/api/v1/vms/web-a1/fly", None, 422,
     (BREAK_GLASS_USER, "POST /api/v1/vms/{vm}/{action}", "refused")),
    (ADMIN, "POST", "/api/v1/hosts/nosuch/activate", None, 404,
     (BREAK_GLASS_USER, "POST /api/v1/hosts/{host}/activate", "refused")),
    # Actions that audit their own refusal or failure get no second record.
    (ADMIN, "POST", "/api/v1/vms/web-a1/migrate", {"target": "no-such-host"}, 409,
     (BREAK_GLASS_USER, "vm.migrate", "failed")),
    (VIEWER, "POST", "/api/v1/vms/web-a1/poweroff", None, 403,
     (VIEWER, "vm.power", "denied")),
    (NOBODY, "POST", "/api/v1/sessions", {"username": "mallory", "password": "guess"}, 401,
     ("mallory", "login", "denied")),
    (NOBODY, "POST", "/api/v1/sessions", {"username": "mallory"}, 422,
     (ANONYMOUS, "POST /api/v1/sessions", "refused")),
    # Not signed in: every kind of missing or bad token.
    (NOBODY, "GET", "/api/v1/vms", None, 401, (ANONYMOUS, "GET /api/v1/vms", "denied")),
    ("Basic YWRtaW46YWRtaW4=", "GET", "/api/v1/vms", None, 401,
     (ANONYMOUS, "GET /api/v1/vms", "denied")),
    ("Bearer !!garbage!!", "DELETE", "/api/v1/sessions/current", None, 401,
     (ANONYMOUS, "DELETE /api/v1/sessions/current", "denied")),
    (f"Bearer {secrets.token_urlsafe(32)}", "POST", "/api/v1/vms/web-a1/poweroff", None, 401,
     (ANONYMOUS, "POST /api/v1/vms/{vm}/{action}", "denied")),
    # What never reached a route, or was not refused, is not audited.
    (ADMIN, "GET", "/api/v1/no-such-route", None, 404, None),
    (ADMIN, "DELETE", "/api/v1/vms", None, 405, None),
    (NOBODY, "GET", "/api/v1/health", None, 200, None),
]  # fmt: skip


async def _request(
    api: Api, headers: dict[str, str], method: str, path: str, body: Any
) -> httpx.Response:
    if isinstance(body, bytes):
        headers = {**headers, "content-type": "application/json"}
        return await api.http.request(method, path, content=body, headers=headers)
    return await api.http.request(method, path, json=body, headers=headers)


def _since(api: Api, seq: int) -> list[dict[str, Any]]:
    return api.engine.audit_log.read(since_seq=seq)


async def test_every_refusal_kind_is_one_audit_record(
    make_api: MakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api = await make_api(GRANTS, local={VIEWER: VIEWER_PW})
    who = {
        ADMIN: await api.token(BREAK_GLASS_USER, BREAK_GLASS_PW),
        VIEWER: await api.token(VIEWER, VIEWER_PW),
        NOBODY: {},
    }
    for caller, method, path, body, status, expected in CASES:
        headers = who.get(caller, {"Authorization": caller})
        before = api.engine.audit_log.last_seq
        resp = await _request(api, headers, method, path, body)
        case = f"{caller[:12]} {method} {path} {body!r}"
        assert resp.status_code == status, f"{case}: {resp.text}"
        records = _since(api, before)
        if expected is None:
            assert records == [], case
            continue
        assert len(records) == 1, f"{case}: {records}"
        rec = records[0]
        assert (rec["actor"], rec["action"], rec["result"]) == expected, case
        if rec["action"].startswith(method):  # written by the shared refusal path
            assert rec["target"] == path and rec["params"]["status"] == status, case
            assert rec["detail"] == resp.json()["error"]["message"][:1000], case
            assert rec["source"] == "127.0.0.1:123", case  # httpx's ASGI client address
        assert "guess" not in str(rec), case  # a body is never recorded

    # A signed-out token and an expired one are refused and recorded like any bad token.
    token = await api.token(BREAK_GLASS_USER, BREAK_GLASS_PW)
    assert (await api.http.delete("/api/v1/sessions/current", headers=token)).status_code == 200
    expired = await api.token(BREAK_GLASS_USER, BREAK_GLASS_PW)
    sessions = api.engine.sessions
    sessions._clock = lambda: time.time() + 10 * 24 * 3600  # type: ignore[attr-defined]
    for headers in (token, expired):
        before = api.engine.audit_log.last_seq
        assert (await api.http.get("/api/v1/hosts", headers=headers)).status_code == 401
        [rec] = _since(api, before)
        assert (rec["actor"], rec["result"], rec["params"]["status"]) == (ANONYMOUS, "denied", 401)
        assert rec["detail"] == "session expired or signed out: sign in again"
        assert len(rec["params"]["token_sha256"]) == 16
        assert headers["Authorization"].split()[1] not in str(rec)

    # All of it chains: the trail verifies.
    assert main(["audit", "verify", "--file", str(api.engine.audit_log.path)]) == 0
    capsys.readouterr()


async def test_an_unhandled_error_is_audited_as_failed(make_api: MakeApi) -> None:
    api = await make_api("")
    admin = await api.token(BREAK_GLASS_USER, BREAK_GLASS_PW)

    def broken(cluster: str) -> dict[str, Any]:
        raise RuntimeError("a bug")

    api.engine.policies.status = broken  # type: ignore[method-assign]
    transport = httpx.ASGITransport(app=create_app(api.engine), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ovtui") as http:
        before = api.engine.audit_log.last_seq
        assert (await http.get("/api/v1/policies/prod-a", headers=admin)).status_code == 500
    [rec] = _since(api, before)
    assert (rec["actor"], rec["action"], rec["result"]) == (
        BREAK_GLASS_USER, "GET /api/v1/policies/{cluster}", "failed"
    )  # fmt: skip
    assert rec["detail"] == "internal error: RuntimeError" and rec["params"]["status"] == 500


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_refusals_of_callers_not_signed_in_are_rate_limited_per_source(
    make_api: MakeApi,
) -> None:
    api = await make_api("")
    clock = FakeClock()
    api.engine.refusal_limit = RefusalLimit(clock, source_burst=3, source_interval=10)
    registry = api.engine.metrics.registry

    def dropped() -> float | None:
        return registry.get_sample_value("ovtui_audit_unauthenticated_dropped_total")

    assert dropped() == 0
    before = api.engine.audit_log.last_seq
    bad = {"Authorization": "Bearer flood"}
    for _ in range(10):
        assert (await api.http.get("/api/v1/vms", headers=bad)).status_code == 401
    assert len(_since(api, before)) == 3 and dropped() == 7

    # Signed-in callers are accountable and never limited.
    admin = await api.token(BREAK_GLASS_USER, BREAK_GLASS_PW)
    before = api.engine.audit_log.last_seq
    for _ in range(5):
        assert (await api.http.get("/api/v1/vms/nope", headers=admin)).status_code == 404
    assert len(_since(api, before)) == 5 and dropped() == 7

    # Once the source's bucket refills, the next record says how many were left out.
    clock.now += 10
    before = api.engine.audit_log.last_seq
    assert (await api.http.get("/api/v1/vms", headers=bad)).status_code == 401
    [rec] = _since(api, before)
    assert rec["params"]["dropped_before"] == 7 and rec["actor"] == ANONYMOUS


async def test_a_flood_of_refused_sign_ins_is_rate_limited_and_counted_once(
    make_api: MakeApi,
) -> None:
    api = await make_api("")
    clock = FakeClock()
    limit = RefusalLimit(clock, source_burst=3, source_interval=10)
    api.engine.refusal_limit = api.engine.signin.limit = limit
    registry = api.engine.metrics.registry
    before = api.engine.audit_log.last_seq
    for _ in range(10):
        assert (await api.login("mallory", "guess")).status_code == 401
    records = _since(api, before)
    # 3 refusals, then the one lock record (never limited); 7 left out, each counted once.
    assert [r["detail"].split(" (")[0].split(":")[0] for r in records] == [
        "bad credentials", "bad credentials", "bad credentials", "locked after 5 failures"
    ]  # fmt: skip
    assert registry.get_sample_value("ovtui_audit_unauthenticated_dropped_total") == 7
    clock.now += 10
    before = api.engine.audit_log.last_seq
    assert (await api.login("mallory", "guess")).status_code == 401
    [rec] = _since(api, before)
    assert rec["detail"].startswith("throttled") and rec["params"]["dropped_before"] == 7
