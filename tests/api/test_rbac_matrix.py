"""Every route declares its permission once, and every role gets exactly what the table says.

The expected table below is written out by hand from the role definitions agreed for ovtui
(SuperUser, ClusterAdmin, PowerUser, Operator, ReadOnly, Auditor): it is NOT derived from
auth.permissions, so a change to a role or to a route's declaration has to be made here too.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import fastapi.routing
import pytest
from fastapi.routing import APIRoute

from auth.permissions import ROLES
from ovtui.api.app import create_app
from ovtui.api.authz import Public, Require
from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.storage.move_model import DiskMove, Endpoint
from ovtui.testdriver_fleet import ClusterSpec, DatacenterSpec, FleetSpec, HostSpec, VmSpec
from tests.conftest import API, PASSWORD, ROLE_USERS, LiveEngine, fleet_config
from tests.storage.helpers import all_read, wait_storage

ALL = frozenset({"SuperUser", "ClusterAdmin", "PowerUser", "Operator", "ReadOnly", "Auditor"})
PUBLIC = "public"


@dataclass(frozen=True)
class Expect:
    allowed: frozenset[str] | str  # roles, or PUBLIC
    permission: str | None = None  # what a refusal is audited as
    target_kind: str | None = None  # ... and on what kind of object
    audited_as: str | None = None  # the audit action an allowed call records
    # What an allowed call returns, and the audited result. A few actions cannot succeed on the
    # test driver (no volume resize, no device hot-plug): they pass authorisation, reach libvirt
    # and are audited as failed, which is what this table can check.
    statuses: tuple[int, ...] = (200, 201)
    result: str = "ok"


DISK_ROLES = frozenset({"SuperUser", "ClusterAdmin", "PowerUser"})
EXPECTED: dict[tuple[str, str], Expect] = {
    ("GET", f"{API}/health"): Expect(PUBLIC),
    ("POST", f"{API}/sessions"): Expect(PUBLIC, audited_as="login"),
    ("GET", f"{API}/sessions/current"): Expect(ALL),
    ("DELETE", f"{API}/sessions/current"): Expect(ALL, audited_as="logout"),
    ("GET", f"{API}/datacenters"): Expect(ALL),
    ("GET", f"{API}/clusters"): Expect(ALL),
    ("GET", f"{API}/hosts"): Expect(ALL),
    ("GET", f"{API}/hosts/{{host}}"): Expect(ALL),
    ("GET", f"{API}/vms"): Expect(ALL),
    ("GET", f"{API}/vms/{{vm}}"): Expect(ALL),
    ("GET", f"{API}/events"): Expect(ALL),
    ("GET", f"{API}/migrations"): Expect(ALL),
    ("GET", f"{API}/audit"): Expect(frozenset({"SuperUser", "Auditor"}), "audit.read", "system"),
    ("POST", f"{API}/vms/{{vm}}/{{action}}"): Expect(
        frozenset({"SuperUser", "ClusterAdmin", "PowerUser", "Operator"}),
        "vm.power",
        "vm",
        "vm.reboot",
    ),
    ("POST", f"{API}/vms/{{vm}}/migrate"): Expect(
        frozenset({"SuperUser", "ClusterAdmin", "PowerUser"}), "vm.migrate", "vm", "vm.migrate"
    ),
    ("POST", f"{API}/hosts/{{host}}/maintenance"): Expect(
        frozenset({"SuperUser", "ClusterAdmin"}), "host.manage", "host", "host.maintenance"
    ),
    ("POST", f"{API}/hosts/{{host}}/activate"): Expect(
        frozenset({"SuperUser", "ClusterAdmin"}), "host.manage", "host", "host.activate"
    ),
    ("GET", f"{API}/grants"): Expect(frozenset({"SuperUser"}), "permissions.manage", "system"),
    ("POST", f"{API}/grants"): Expect(
        frozenset({"SuperUser"}), "permissions.manage", "system", "grants.add"
    ),
    ("DELETE", f"{API}/grants/{{grant_id}}"): Expect(
        frozenset({"SuperUser"}), "permissions.manage", "system", "grants.delete"
    ),
    # Scheduling policies (issue 5): reading is inventory.read; changes are policy.manage.
    ("GET", f"{API}/policies"): Expect(ALL),
    ("GET", f"{API}/policies/{{cluster}}"): Expect(ALL),
    ("GET", f"{API}/policies/{{cluster}}/plan"): Expect(ALL),
    ("GET", f"{API}/policies/{{cluster}}/preview"): Expect(ALL),
    ("POST", f"{API}/policies/{{cluster}}/run"): Expect(
        frozenset({"SuperUser", "ClusterAdmin"}), "policy.manage", "cluster", "policy.run"
    ),
    ("POST", f"{API}/policies/{{cluster}}/apply"): Expect(
        frozenset({"SuperUser", "ClusterAdmin"}), "policy.manage", "cluster", "policy.apply"
    ),
    ("POST", f"{API}/policies/{{cluster}}/apply-step"): Expect(
        frozenset({"SuperUser", "ClusterAdmin"}), "policy.manage", "cluster", "policy.apply_step"
    ),
    # Storage (issue 11): reading is inventory.read.
    ("GET", f"{API}/storage"): Expect(ALL),
    ("GET", f"{API}/storage/{{storage}}"): Expect(ALL),
    ("POST", f"{API}/storage/{{storage}}/refresh"): Expect(
        frozenset({"SuperUser"}), "storage.manage", "storage", "storage.refresh"
    ),
    ("GET", f"{API}/disks"): Expect(ALL),
    ("GET", f"{API}/vms/{{vm}}/disks"): Expect(ALL),
    ("POST", f"{API}/storage/{{storage}}/disks"): Expect(
        DISK_ROLES, "disk.manage", "storage", "disk.create"
    ),
    ("DELETE", f"{API}/storage/{{storage}}/disks/{{disk}}"): Expect(
        DISK_ROLES, "disk.manage", "storage", "disk.delete"
    ),
    ("POST", f"{API}/storage/{{storage}}/disks/{{disk}}/grow"): Expect(
        DISK_ROLES, "disk.manage", "storage", "disk.grow", (502,), "failed"
    ),
    ("POST", f"{API}/vms/{{vm}}/disks"): Expect(
        DISK_ROLES, "disk.manage", "vm", "disk.attach", (502,), "failed"
    ),
    ("DELETE", f"{API}/vms/{{vm}}/disks/{{target}}"): Expect(
        DISK_ROLES, "disk.manage", "vm", "disk.detach", (400,), "failed"
    ),
    # the matrix VMs' vda is a plain file, on no storage domain: the move is refused as such
    ("POST", f"{API}/vms/{{vm}}/disks/{{target}}/move"): Expect(
        DISK_ROLES, "disk.manage", "vm", "disk.move", (400,), "failed"
    ),
    ("GET", f"{API}/disk-moves"): Expect(ALL),
    ("GET", f"{API}/disk-moves/{{move}}"): Expect(ALL),
    # Provisioning (issue 12)
    ("POST", f"{API}/clusters/{{cluster}}/vms"): Expect(
        DISK_ROLES, "vm.create", "cluster", "vm.create"
    ),
    ("DELETE", f"{API}/vms/{{vm}}"): Expect(
        frozenset({"SuperUser", "ClusterAdmin"}), "vm.delete", "vm", "vm.delete"
    ),
    # import is off in the matrix engine (no import_dir): refused (400) after authorisation
    ("POST", f"{API}/clusters/{{cluster}}/vms/import"): Expect(
        DISK_ROLES, "vm.create", "cluster", "vm.import", (400,), "failed"
    ),
    # the matrix VMs run: a clone or a template of one is refused (409) after authorisation
    ("POST", f"{API}/vms/{{vm}}/clone"): Expect(
        DISK_ROLES, "vm.create", "vm", "vm.clone", (409,), "failed"
    ),
    ("PATCH", f"{API}/vms/{{vm}}"): Expect(DISK_ROLES, "vm.create", "vm", "vm.edit"),
    ("GET", f"{API}/vms/{{vm}}/snapshots"): Expect(ALL),
    ("POST", f"{API}/vms/{{vm}}/snapshots"): Expect(DISK_ROLES, "vm.snapshot", "vm", "vm.snapshot"),
    ("POST", f"{API}/vms/{{vm}}/snapshots/{{snapshot}}/revert"): Expect(
        DISK_ROLES, "vm.snapshot", "vm", "vm.snapshot_revert"
    ),
    ("DELETE", f"{API}/vms/{{vm}}/snapshots/{{snapshot}}"): Expect(
        DISK_ROLES, "vm.snapshot", "vm", "vm.snapshot_delete"
    ),
    ("GET", f"{API}/templates"): Expect(ALL),
    ("GET", f"{API}/templates/{{template}}"): Expect(ALL),
    ("POST", f"{API}/vms/{{vm}}/template"): Expect(
        frozenset({"SuperUser", "ClusterAdmin"}),
        "template.manage",
        "vm",
        "template.create",
        (409,),
        "failed",
    ),
    # Blank is built in: deleting it is refused (400) after authorisation
    ("DELETE", f"{API}/templates/{{template}}"): Expect(
        frozenset({"SuperUser", "ClusterAdmin"}),
        "template.manage",
        "template",
        "template.delete",
        (400,),
        "failed",
    ),
    ("PUT", f"{API}/policies/{{cluster}}/mode"): Expect(
        frozenset({"SuperUser", "ClusterAdmin"}), "policy.manage", "cluster", "policy.mode"
    ),
    ("DELETE", f"{API}/policies/{{cluster}}/mode"): Expect(
        frozenset({"SuperUser", "ClusterAdmin"}), "policy.manage", "cluster", "policy.mode"
    ),
}
CALLERS = [*sorted(ALL), None]
_DISK_NUMBERS = itertools.count()  # None: no Authorization header at all


def _slug(role: str) -> str:
    return role.lower()


def _spec() -> FleetSpec:
    """h1 holds a VM per role to power-cycle and one to migrate; h2 takes them; h3 stays empty
    so that maintenance on it is quick and always possible."""
    sky = "Skylake-Server"
    vms = tuple(
        vm
        for role in sorted(ALL)
        for vm in (
            VmSpec(f"pw-{_slug(role)}", 1, 512, "web"),
            VmSpec(f"mig-{_slug(role)}", 1, 512, "web"),
        )
    )
    return FleetSpec(
        (DatacenterSpec("dc1"),),
        (ClusterSpec("c1", "dc1", sky),),
        (
            HostSpec("h1", "c1", 16, 32768, sky, 2400, vms),
            HostSpec("h2", "c1", 16, 32768, sky, 2400, ()),
            HostSpec("h3", "c1", 16, 32768, sky, 2400, ()),
        ),
    )


def _request(
    live: LiveEngine, key: tuple[str, str], role: str | None
) -> tuple[str, str, dict[str, Any] | None]:
    """A valid request for the route: path parameters filled in, body when one is needed."""
    method, path = key
    if "{grant_id}" in path:
        path = path.replace("{grant_id}", _new_grant(live))
    slug = _slug(role or "SuperUser")
    vm = f"mig-{slug}" if path.endswith("/migrate") else f"pw-{slug}"
    if (method, path) == ("DELETE", f"{API}/vms/{{vm}}"):
        vm = _new_vm(live)
    host = "h1" if method == "GET" else "h3"
    url = path.replace("{vm}", vm).replace("{host}", host).replace("{action}", "reboot")
    url = url.replace("{cluster}", "c1")  # c1 has no hot host: its plans have no steps
    url = url.replace("{storage}", "loc").replace("{target}", "vda")
    url = url.replace("{template}", "Blank")
    if "{snapshot}" in path:
        url = url.replace("{snapshot}", _new_snapshot(live, vm))
    if "{move}" in path:
        url = url.replace("{move}", _stored_move(live))
    if "{disk}" in path:
        url = url.replace("{disk}", _new_disk(live))
    body: dict[str, Any] | None = None
    if path.endswith("/migrate"):
        body = {"target": "h2"}
    elif path.endswith("/maintenance"):
        body = {"reason": "rbac matrix"}
    elif path.endswith("/sessions") and method == "POST":
        body = {"username": ROLE_USERS.get(role or "SuperUser"), "password": PASSWORD}
    elif path.endswith("/grants") and method == "POST":
        body = {"user": f"someone-{slug}", "role": "ReadOnly", "scope": "cluster", "object": "c1"}
    elif path.endswith("/storage/{storage}/disks"):
        body = {"name": f"new-{next(_DISK_NUMBERS)}", "size_bytes": 1 << 20}
    elif path.endswith("/grow"):
        body = {"size_bytes": 1 << 30}
    elif path.endswith("/move"):
        body = {"storage": "loc"}
    elif path.endswith("/vms/{vm}/disks") and method == "POST":
        body = {"storage": "loc", "disk": _new_disk(live)}
    elif path.endswith("/snapshots") and method == "POST":
        body = {"name": f"snap-{next(_DISK_NUMBERS)}"}
    elif path.endswith("/clone") or path.endswith("/template"):
        body = {"name": f"copy-{next(_DISK_NUMBERS)}"}
    elif method == "PATCH":
        body = {"description": "rbac matrix"}
    elif path.endswith("/vms/import"):
        body = {"source": "disk.qcow2", "storage": "loc"}
    elif path.endswith("/clusters/{cluster}/vms"):
        body = {"name": f"new-vm-{next(_DISK_NUMBERS)}", "memory_mib": 256}
    elif path.endswith("/apply-step"):
        body = {"step": 0}
    elif path.endswith("/mode") and method == "PUT":
        body = {"mode": "recommend"}
    elif path.endswith("/apply"):
        body = {}
    return method, url, body


def _new_disk(live: LiveEngine) -> str:
    """A disk made through the API (by the SuperUser) for the call under test to act on."""
    name = f"disk-{next(_DISK_NUMBERS)}"
    resp = live.as_role("SuperUser").post(
        f"{API}/storage/loc/disks", json={"name": name, "size_bytes": 1 << 20}
    )
    assert resp.status_code == 201, resp.text
    return name


def _new_snapshot(live: LiveEngine, vm: str) -> str:
    """A snapshot of a matrix VM taken through the API (by the SuperUser)."""
    name = f"snap-{next(_DISK_NUMBERS)}"
    resp = live.as_role("SuperUser").post(f"{API}/vms/{vm}/snapshots", json={"name": name})
    assert resp.status_code == 201, resp.text
    return name


def _new_vm(live: LiveEngine) -> str:
    """A shut-off VM made through the API (by the SuperUser), for DELETE to remove."""
    name = f"del-{next(_DISK_NUMBERS)}"
    resp = live.as_role("SuperUser").post(
        f"{API}/clusters/c1/vms", json={"name": name, "memory_mib": 256}
    )
    assert resp.status_code == 201, resp.text
    return name


def _stored_move(live: LiveEngine) -> str:
    """A finished disk move of a matrix VM, as the store keeps it."""
    vm = live.engine.snapshot().vms_named("pw-superuser")[0]
    src, dst = Endpoint("loc", "a.qcow2", "/vm/a.qcow2"), Endpoint("loc2", "a.qcow2")
    move = DiskMove("m-rbac", vm.name, vm.uuid, vm.host, "vdb", True, src, dst, 1 << 20)
    live.engine.store.table("disk_moves").insert(move.at("source_deleted", 1.0).as_dict())
    return move.id


def _new_grant(live: LiveEngine) -> str:
    """A grant made through the API (by the SuperUser), for DELETE to withdraw."""
    resp = live.as_role("SuperUser").post(
        f"{API}/grants", json={"user": "temp", "role": "Operator"}
    )
    assert resp.status_code == 201, resp.text
    grant_id: str = resp.json()["id"]
    return grant_id


@pytest.fixture(scope="module")
def live() -> Iterator[LiveEngine]:
    # One engine for the whole matrix: every mutating call uses its own VM (or the empty h3,
    # where maintenance and activation succeed whatever state the previous call left).
    config = fleet_config(_spec())
    # Local to h1, where the VMs are: test-driver hosts do not share volumes as real ones would.
    loc = StorageDomainConfig(name="loc", datacenter="dc1", type="local", path="/vm", hosts=["h1"])
    config = config.model_copy(update={"storage_domains": [loc]})
    try:
        running = LiveEngine(config)
        try:
            yield running
        finally:
            running.stop()
    finally:
        shutil.rmtree(config.engine.store_dir.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def tokens(live: LiveEngine) -> dict[str, str]:
    return {role: live.login(ROLE_USERS[role]) for role in sorted(ALL)}


def _routes(live: LiveEngine) -> list[Any]:
    """Every APIRoute of the app as served: full path, methods and effective dependencies.

    FastAPI >= 0.120 keeps included routers lazy (app.routes holds _IncludedRouter objects);
    iter_route_contexts flattens them, with router-level dependencies merged in.
    """
    app = create_app(live.engine)
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if iter_contexts is None:  # older FastAPI: included routes are APIRoutes in app.routes
        routes = [r for r in app.routes if isinstance(r, APIRoute)]
    else:
        routes = [c for c in iter_contexts(app.routes) if isinstance(c.original_route, APIRoute)]
    assert len(routes) >= 10, f"found only {len(routes)} API routes: is the walk still right?"
    return routes


def _declarations(route: Any) -> list[Require | Public]:
    """The distinct Require/Public objects a route depends on (FastAPI runs one object used
    twice, e.g. in `dependencies=` and as a parameter, once per request: one declaration)."""
    found: dict[int, Require | Public] = {}
    pending = list(route.dependant.dependencies)
    while pending:
        dep = pending.pop()
        if isinstance(dep.call, Require | Public):
            found.setdefault(id(dep.call), dep.call)
        pending.extend(dep.dependencies)
    return list(found.values())


def test_the_table_covers_every_role() -> None:
    assert set(ROLES) == ALL, "a role was added or removed: extend EXPECTED for it"


def test_every_route_declares_exactly_one_permission(live: LiveEngine) -> None:
    problems = []
    for route in _routes(live):
        found = _declarations(route)
        if len(found) != 1:
            what = ", ".join(type(d).__name__ for d in found) or "nothing"
            problems.append(f"{sorted(route.methods)} {route.path}: declares {what}")
    assert not problems, "each route needs exactly one Require(...) or Public():\n" + "\n".join(
        problems
    )


def test_every_route_is_in_the_expected_table(live: LiveEngine) -> None:
    served = {(m, r.path) for r in _routes(live) for m in r.methods}
    missing = sorted(served - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - served)
    assert not missing, f"routes without an expected RBAC row (add them to EXPECTED): {missing}"
    assert not stale, f"EXPECTED rows for routes that no longer exist: {stale}"


def test_public_declarations_match_the_table(live: LiveEngine) -> None:
    public = {
        (m, r.path)
        for r in _routes(live)
        for m in r.methods
        if isinstance(_declarations(r)[0], Public)
    }
    assert public == {k for k, v in EXPECTED.items() if v.allowed == PUBLIC}


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c or "anonymous")
@pytest.mark.parametrize("key", list(EXPECTED), ids=lambda k: f"{k[0]} {k[1]}")
def test_matrix(live: LiveEngine, tokens: dict[str, str], key, caller: str | None) -> None:
    expect = EXPECTED[key]
    method, url, body = _request(live, key, caller)
    token = None
    if caller is not None:
        # Signing out revokes the token it is called with: give it one of its own.
        logout = key == ("DELETE", f"{API}/sessions/current")
        token = live.login(ROLE_USERS[caller]) if logout else tokens[caller]
    if "storage" in url:
        wait_storage(live.as_role("SuperUser"), all_read)
    before = live.engine.audit_log.last_seq
    resp = live.client(token).request(method, url, json=body)
    new = live.engine.audit_log.read(since_seq=before)
    user = ROLE_USERS[caller] if caller else None

    if expect.allowed == PUBLIC or (caller is not None and caller in expect.allowed):
        assert resp.status_code in expect.statuses, f"{caller} {method} {url}: {resp.text}"
        if expect.audited_as:
            assert [(r["actor"], r["action"], r["result"]) for r in new] == [
                (user or "admin", expect.audited_as, expect.result)
            ]
        return
    if caller is None:
        assert resp.status_code == 401, resp.text
        assert "not signed in" in resp.json()["error"]["message"]
        assert "ovtui login" in resp.json()["error"]["message"]
        return
    assert resp.status_code == 403, f"{caller} {method} {url}: {resp.text}"
    message = resp.json()["error"]["message"]
    assert message.startswith(f"{user} may not {expect.permission} on {expect.target_kind} ")
    assert f"['{caller}']" in message
    # the refusal is in the audit trail, with who, what and on what
    assert len(new) == 1, new
    (rec,) = new
    assert (rec["actor"], rec["action"], rec["result"]) == (user, expect.permission, "denied")
    assert rec["target"].startswith(f"{expect.target_kind}/")
    assert rec["source"] == "unix-socket"


def test_a_refused_migration_moved_nothing(live: LiveEngine, tokens: dict[str, str]) -> None:
    resp = live.client(tokens["Operator"]).post(
        f"{API}/vms/pw-operator/migrate", json={"target": "h2"}
    )
    assert resp.status_code == 403
    live.settle()
    vm = live.client(tokens["Operator"]).get(f"{API}/vms/pw-operator").json()
    assert vm["host"] == "h1" and vm["state"] == "running"


@pytest.mark.parametrize("header", ["", "Bearer", "Basic YWRtaW46ZGVtbw==", "token"])
def test_malformed_authorization_is_401(live: LiveEngine, header: str) -> None:
    headers = {"Authorization": header} if header else {}
    resp = live.client().get(f"{API}/vms", headers=headers)
    assert resp.status_code == 401
    assert "Authorization: Bearer TOKEN" in resp.json()["error"]["message"]


def test_unknown_token_is_401_sign_in_again(live: LiveEngine) -> None:
    resp = live.client("not-a-real-token").get(f"{API}/vms")
    assert resp.status_code == 401
    assert resp.json()["error"]["message"] == "session expired or signed out: sign in again"


@pytest.mark.parametrize("action", ["start", "shutdown", "poweroff", "suspend", "resume"])
def test_every_power_action_is_refused_to_readonly(
    live: LiveEngine, tokens: dict[str, str], action: str
) -> None:
    resp = live.client(tokens["ReadOnly"]).post(f"{API}/vms/pw-readonly/{action}")
    assert resp.status_code == 403
    assert resp.json()["error"]["message"].startswith("viewer may not vm.power on vm pw-readonly")
