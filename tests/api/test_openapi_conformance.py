"""/openapi.json tells the truth: schemathesis against an engine on the demo fleet.

Every documented operation gets generated requests (valid and, for parameters and bodies,
invalid ones): signed in as SuperUser (random and real object names), as a read-only user, and
with no or a garbage token. Every answer must be documented (status code, content type, body)
and none may be a 5xx; all mismatches are collected and reported together. Requests go over
the engine's real Unix socket (httpx); schemathesis generates them and validates the answers.
The counts are small (a few thousand requests in all, seconds): the same cases every run.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from auth.permissions import ROLES, Permission
from auth.principal import SCOPES
from ovtui.api.schemas.storage import _POOL, _STAGES
from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.model import HostState, VmState
from ovtui.storage.move_model import DiskMove, Endpoint
from ovtui.testdriver_fleet import demo_spec
from tests.conftest import API, LiveEngine, fleet_config
from tests.storage.helpers import all_read, wait_storage

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
BASE = "http://ovtui"
# Real names from the demo fleet, so detail routes and actions answer 200 too, not just 404
# (the demo is too full for an evacuation: the standard-fleet test below covers that).
# Storage: `loc` and `spare` are local to kvm-a01 (where web-frontend-01 runs); `loc` holds
# data.qcow2 (the first VM of kvm-a01's vdb) and free.qcow2 (no VM's); `m-done` is a failed
# disk move.
REAL = {
    "vm": "web-frontend-01",
    "host": "kvm-b03",
    "cluster": "prod-a",
    "storage": "loc",
    "disk": "free.qcow2",
    "target": "vdb",
    "move": "m-failed",
    "datacenter": "dc1",
}
GIB = 1 << 30
# Bodies that make an action happen (a cold migration on the test driver), not be refused.
REAL_BODY = {
    ("POST", f"{API}/vms/{{vm}}/migrate"): {"target": "kvm-a03"},
    ("POST", f"{API}/storage/{{storage}}/disks"): {"name": "made-1", "size_bytes": GIB},
    ("POST", f"{API}/vms/{{vm}}/disks"): {"storage": "loc", "disk": "free.qcow2"},
    ("POST", f"{API}/storage/{{storage}}/disks/{{disk}}/grow"): {"size_bytes": 2 * GIB},
    ("POST", f"{API}/datacenters/{{datacenter}}/networks"): {
        "name": "made-net",
        "bridge": "br-made",
        "clusters": {"prod-a": "optional"},
    },
}
SIGN_OUT = ("DELETE", f"{API}/sessions/current")
# The libvirt test driver cannot hot-plug or resize a running VM's disk, nor preallocate a
# volume: the engine answers 502 (documented: the hypervisor refused), libvirt's text in
# `detail`. Such an answer is allowed, no other 5xx; tests/lab/test_storage_lab.py does these
# for real.
UNSUPPORTED = ("not supported by the connection driver", "unsupported flags")


def _hypervisor_cannot(response: httpx.Response) -> bool:
    if response.status_code != 502:
        return False
    detail = str(response.json().get("error", {}).get("detail"))
    return any(text in detail for text in UNSUPPORTED)


DATA_HOST = "kvm-a01"


def _volume(name: str, size: int = GIB) -> str:
    return (
        f"<volume><name>{name}</name><capacity>{size}</capacity><allocation>0</allocation>"
        "<target><format type='qcow2'/></target></volume>"
    )


def _storage_on_a01(root: Path) -> None:
    """kvm-a01 already has the pools, with volumes; its first VM uses loc's data.qcow2 as vdb."""
    node = next(root.rglob(f"{DATA_HOST}.xml"))
    pools = "".join(
        f"<pool type='dir'><name>ovtui-{sd}</name><target><path>/{sd}</path></target>{vols}</pool>"
        for sd, vols in (("loc", _volume("data.qcow2") + _volume("free.qcow2")), ("spare", ""))
    )
    vdb = (
        '<disk type="volume" device="disk"><source pool="ovtui-loc" volume="data.qcow2"/>'
        '<target dev="vdb" bus="virtio"/></disk>'
    )
    text = node.read_text()
    node.write_text(
        text.replace("</devices>", vdb + "</devices>", 1).replace("</node>", pools + "</node>")
    )


@pytest.fixture(scope="module")
def live() -> Iterator[LiveEngine]:
    config = fleet_config(demo_spec(), prepare=_storage_on_a01)
    domains = [
        StorageDomainConfig(
            name=sd, datacenter="dc1", type="local", path=f"/{sd}", hosts=[DATA_HOST]
        )
        for sd in ("loc", "spare")
    ]
    config = config.model_copy(update={"storage_domains": domains})
    try:
        running = LiveEngine(config)
        try:
            wait_storage(running.as_role("SuperUser"), all_read)
            vm = running.engine.snapshot().vms_named(REAL["vm"])[0]
            src, dst = Endpoint("loc", "a.qcow2", "/loc/a.qcow2"), Endpoint("spare", "a.qcow2")
            move = DiskMove(REAL["move"], vm.name, vm.uuid, vm.host, "vdb", True, src, dst, GIB)
            running.engine.store.table("disk_moves").insert(
                move.at("copying", 1.0).at("failed", 2.0, error="copy failed").as_dict()
            )
            yield running
        finally:
            running.stop()
    finally:
        shutil.rmtree(config.engine.store_dir.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def schema(live: LiveEngine) -> Any:
    resp = live.client().get("/openapi.json")
    assert resp.status_code == 200, resp.text
    return schemathesis.openapi.from_dict(resp.json())


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _send(client: httpx.Client, case: Any, headers: dict[str, str] | None) -> httpx.Response:
    """Sends `case` with `headers` on top; None: with no Authorization header at all."""
    kw = case.as_transport_kwargs(base_url=BASE)
    sent = dict(kw.get("headers") or {})
    if headers is not None:  # ours replace what schemathesis made up, whatever the case
        sent = {k: v for k, v in sent.items() if k.lower() not in {h.lower() for h in headers}}
        sent.update(headers)
    else:
        sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
    body: dict[str, Any] = {}
    if "json" in kw:
        body["json"] = kw["json"]
    elif kw.get("data") is not None:
        data = kw["data"]
        body["content" if isinstance(data, bytes | str) else "data"] = data
    return client.request(kw["method"], kw["url"], headers=sent, params=kw.get("params"), **body)


class Fuzz:
    """Runs generated cases of one operation; collects what does not match the document."""

    def __init__(self, live: LiveEngine) -> None:
        self.live = live
        self.client = live.client()
        self.failures: list[str] = []
        self.statuses: dict[str, set[int]] = {}

    def run(
        self,
        operation: Any,
        headers: Callable[[], dict[str, str] | None],
        examples: int,
        mode: GenerationMode = GenerationMode.POSITIVE,
        path_parameters: dict[str, str] | None = None,
        body: Any = NOT_SET,
    ) -> None:
        strategy = operation.as_strategy(
            generation_mode=mode, path_parameters=path_parameters, body=body
        )

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,  # the same requests on every run: a failure reproduces
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def one(case: Any) -> None:
            try:
                response = _send(self.client, case, headers())
            except httpx.LocalProtocolError:  # a generated header no HTTP client may send
                reject()
            self.statuses.setdefault(operation.label, set()).add(response.status_code)
            try:
                checks = CHECKS[1:] if _hypervisor_cannot(response) else CHECKS
                case.validate_response(response, checks=checks)
            except (AssertionError, BaseExceptionGroup) as exc:  # keep going, report all
                if len(self.failures) < 20:
                    self.failures.append(f"{operation.label} ({mode.value}): {exc}")

        try:
            one()
        except Unsatisfiable:
            # Nothing invalid to send (no parameters, no body): only negative runs get here.
            assert mode == GenerationMode.NEGATIVE, operation.label

    def report(self) -> None:
        assert not self.failures, "\n\n".join(self.failures)


def test_every_answer_signed_in_matches_the_document(live: LiveEngine, schema: Any) -> None:
    token = live.login("admin")
    fuzz = Fuzz(live)
    for op in _operations(schema):
        if (op.method.upper(), op.path) == SIGN_OUT:
            # Each sign-out gets its own fresh session, so the others keep theirs.
            def headers() -> dict[str, str]:
                return {"Authorization": f"Bearer {live.login('admin')}"}
        else:

            def headers() -> dict[str, str]:
                return {"Authorization": f"Bearer {token}"}

        fuzz.run(op, headers, examples=12)
        fuzz.run(op, headers, examples=6, mode=GenerationMode.NEGATIVE)
        real = {p: REAL[p] for p in REAL if any(x.name == p for x in op.path_parameters)}
        if real:
            fuzz.run(op, headers, examples=6, path_parameters=real)
        body = REAL_BODY.get((op.method.upper(), op.path))
        if body is not None:
            fuzz.run(op, headers, examples=1, path_parameters=real, body=body)
    fuzz.report()
    # The run reached the engine's real answers, not only its refusals.
    assert 200 in fuzz.statuses[f"GET {API}/vms/{{vm}}"]
    assert 200 in fuzz.statuses[f"GET {API}/hosts/{{host}}"]
    assert 200 in fuzz.statuses[f"GET {API}/policies/{{cluster}}/preview"]
    assert 422 in fuzz.statuses[f"GET {API}/audit"]
    assert 200 in fuzz.statuses[f"POST {API}/vms/{{vm}}/migrate"]
    for route in ("/storage", "/storage/{storage}", "/disks", "/vms/{vm}/disks", "/disk-moves",
                  "/disk-moves/{move}"):  # fmt: skip
        assert 200 in fuzz.statuses[f"GET {API}{route}"], (
            route,
            fuzz.statuses[f"GET {API}{route}"],
        )
    assert 200 in fuzz.statuses[f"POST {API}/storage/{{storage}}/refresh"]
    assert 201 in fuzz.statuses[f"POST {API}/storage/{{storage}}/disks"]
    assert 201 in fuzz.statuses[f"POST {API}/datacenters/{{datacenter}}/networks"]


def test_refusals_to_a_read_only_user_match_the_document(live: LiveEngine, schema: Any) -> None:
    token = live.login("viewer")
    fuzz = Fuzz(live)
    for op in _operations(schema):
        if (op.method.upper(), op.path) == SIGN_OUT:
            continue  # signing out is allowed to everyone, and would end this session
        real = {p: REAL[p] for p in REAL if any(x.name == p for x in op.path_parameters)}
        fuzz.run(op, lambda: {"Authorization": f"Bearer {token}"}, examples=3,
                 path_parameters=real or None)  # fmt: skip
    fuzz.report()
    for label in (f"POST {API}/grants", f"GET {API}/audit", f"POST {API}/vms/{{vm}}/migrate"):
        assert 403 in fuzz.statuses[label], (label, fuzz.statuses[label])


def test_without_a_valid_token_every_protected_route_answers_401(
    live: LiveEngine, schema: Any
) -> None:
    fuzz = Fuzz(live)
    protected = [op for op in _operations(schema) if op.definition.raw.get("security")]
    assert len(protected) >= 20
    for op in protected:
        fuzz.run(op, lambda: None, examples=3)  # no Authorization header
        fuzz.run(op, dict, examples=3)  # whatever bearer token schemathesis makes up
        fuzz.run(op, lambda: {"Authorization": "Bearer not-a-token"}, examples=2)
    fuzz.report()
    for op in protected:
        # 404: a generated name with "/" in it is refused before authentication (path_guard)
        assert fuzz.statuses[op.label] <= {401, 422, 404}, (op.label, fuzz.statuses[op.label])
        assert 401 in fuzz.statuses[op.label], op.label


def _call(
    live: LiveEngine, schema: Any, token: str, method: str, path: str, **case: Any
) -> httpx.Response:
    """One given request, validated like the generated ones; returns the response."""
    operation = schema[f"{API}{path}"][method]
    made = operation.Case(**case)
    response = _send(live.client(), made, {"Authorization": f"Bearer {token}"})
    made.validate_response(response, checks=CHECKS)
    return response


def test_answers_the_demo_fleet_cannot_give_match_the_document(start_engine: Any) -> None:
    """Outcomes the full demo fleet never reaches (an evacuation, activation, a made and
    withdrawn grant and the scoped role it gives, a refused migration, an automatic round), on
    the small standard fleet."""
    live = start_engine()
    schema = schemathesis.openapi.from_dict(live.client().get("/openapi.json").json())
    admin, operator = live.login("admin"), live.login("operator")

    def call(method: str, path: str, token: str = admin, **case: Any) -> dict[str, Any]:
        return _call(live, schema, token, method, path, **case).json()

    assert call("POST", "/hosts/{host}/maintenance", path_parameters={"host": "h2"},
                body={"reason": "disk swap"})["result"] == "in maintenance"  # fmt: skip
    assert call("POST", "/hosts/{host}/activate", path_parameters={"host": "h2"})["result"] == (
        "activated"
    )
    refused = call("POST", "/vms/{vm}/migrate", path_parameters={"vm": "pin-1"},
                   body={"target": "h2"})  # fmt: skip
    assert refused["error"]["kind"] == "conflict"
    denied = call("POST", "/vms/{vm}/migrate", operator, path_parameters={"vm": "web-2"},
                  body={"target": "h2"})  # fmt: skip
    assert denied["error"]["status"] == 403
    grant = {"user": "viewer", "role": "Operator", "scope": "cluster", "object": "c1"}
    made = call("POST", "/grants", body=grant)
    assert made["origin"] == "api"
    scoped = call("GET", "/sessions/current", live.login("viewer"))  # a role on one object
    assert scoped["grants"] == [{"role": "Operator", "scope": "cluster", "object": "c1"}]
    call("DELETE", "/grants/{grant_id}", path_parameters={"grant_id": made["id"]})
    call("PUT", "/policies/{cluster}/mode", path_parameters={"cluster": "c1"},
         body={"mode": "automatic"})  # fmt: skip
    call("POST", "/policies/{cluster}/run", path_parameters={"cluster": "c1"})
    call("GET", "/policies/{cluster}", path_parameters={"cluster": "c1"})
    call("GET", "/policies/{cluster}/plan", path_parameters={"cluster": "c1"})
    # The logs now hold every kind of record these made: each must match too.
    history = call("GET", "/migrations")
    assert {r["result"] for r in history} == {"succeeded", "failed"}
    assert {e["kind"] for e in call("GET", "/events")} >= {"host", "migration"}
    assert {r["result"] for r in call("GET", "/audit")} == {"ok", "failed", "denied"}


def test_the_document_types_every_answer(live: LiveEngine) -> None:
    doc = live.client().get("/openapi.json").json()
    components = doc["components"]["schemas"]
    assert "HTTPValidationError" not in components  # FastAPI's 422 body is never sent
    untyped, bad_errors = [], []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for code, response in op["responses"].items():
                body = response["content"]["application/json"]["schema"]
                if code.startswith("2") and (body in ({}, {"type": "string"})):
                    untyped.append(f"{method.upper()} {path} {code}")
                if not code.startswith("2") and body != {"$ref": "#/components/schemas/ErrorBody"}:
                    bad_errors.append(f"{method.upper()} {path} {code}")
            if op.get("security"):
                assert "401" in op["responses"], (method, path)
    assert not untyped and not bad_errors, (untyped, bad_errors)
    # Fixed sets are enums, built from their definitions.
    assert set(components["VmState"]["enum"]) == {s.value for s in VmState}
    assert set(components["HostState"]["enum"]) == {s.value for s in HostState}
    assert set(components["RoleName"]["enum"]) == set(ROLES)
    grant = components["GrantRequest"]["properties"]
    assert grant["role"]["enum"] == list(ROLES) and grant["scope"]["enum"] == list(SCOPES)
    assert set(components["Permission"]["enum"]) == {p.value for p in Permission}
    assert set(components["PoolState"]["enum"]) == set(_POOL)
    assert set(components["MoveStage"]["enum"]) == set(_STAGES)
    assert components["DiskRow"]["properties"]["format"]["enum"] == ["qcow2", "raw"]


def test_a_name_with_a_slash_is_a_404_not_another_route(live: LiveEngine, schema: Any) -> None:
    """Starlette routes on the decoded path: "prod-a%2Fplan" as {cluster} used to reach the
    plan route (200 null where a PolicyStatus is documented), "a%2Fstart" as {vm} a 405."""
    client = live.client(live.login("admin"))
    for path, name in (
        ("/policies/{cluster}", "prod-a/plan"),
        ("/vms/{vm}", "web-frontend-01/start"),
        ("/hosts/{host}", "kvm-a01/activate"),
        ("/vms/{vm}", "/"),
    ):
        param = path.split("{")[1].rstrip("}")
        made = schema[f"{API}{path}"]["GET"].Case(path_parameters={param: name})
        url = API + path.replace(f"{{{param}}}", quote(name, safe=""))
        response = client.get(url)
        made.validate_response(response, checks=CHECKS)
        assert response.status_code == 404, (url, response.text)
        assert "never contain '/'" in response.json()["error"]["message"]


def test_storage_refusals_name_what_is_missing(live: LiveEngine, schema: Any) -> None:
    """A disk or device named in the path that does not exist is a 404 (it used to be an
    undocumented 400), and each answer matches the document."""
    admin = live.login("admin")

    def call(method: str, path: str, **case: Any) -> httpx.Response:
        return _call(live, schema, admin, method, path, **case)

    missing = [
        ("DELETE", "/vms/{vm}/disks/{target}", {"vm": REAL["vm"], "target": "vdz"}, None),
        ("POST", "/vms/{vm}/disks/{target}/move", {"vm": REAL["vm"], "target": "vdz"},
         {"storage": "spare"}),
        ("POST", "/storage/{storage}/disks/{disk}/grow", {"storage": "loc", "disk": "nope"},
         {"size_bytes": GIB}),
        ("DELETE", "/storage/{storage}/disks/{disk}", {"storage": "loc", "disk": "nope"}, None),
        ("POST", "/vms/{vm}/disks", {"vm": REAL["vm"]}, {"storage": "loc", "disk": "nope"}),
    ]  # fmt: skip
    for method, path, params, body in missing:
        case: dict[str, Any] = {"path_parameters": params}
        if body is not None:
            case["body"] = body
        resp = call(method, path, **case)
        assert resp.status_code == 404, (method, path, resp.text)
        assert "no disk" in resp.json()["error"]["message"], resp.text
    # A VM's disks not on a storage domain say so with nulls, every field present.
    rows = call("GET", "/vms/{vm}/disks", path_parameters={"vm": REAL["vm"]}).json()
    assert rows and all(r["domain"] is None and r["volume"] is None for r in rows), rows
    # In use: a 409 naming the VM; the storage routes answer with their documented bodies.
    used = call("DELETE", "/storage/{storage}/disks/{disk}",
                path_parameters={"storage": "loc", "disk": "data.qcow2"})  # fmt: skip
    assert used.status_code == 409 and "in use by" in used.json()["error"]["message"]
    sd = call("GET", "/storage/{storage}", path_parameters={"storage": "loc"}).json()
    assert sd["state"] == "active" and [h["host"] for h in sd["hosts"]] == [DATA_HOST]
    move = call("GET", "/disk-moves/{move}", path_parameters={"move": REAL["move"]}).json()
    assert move["stage"] == "failed" and [h[0] for h in move["history"]] == ["copying", "failed"]
