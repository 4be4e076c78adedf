"""Every route declares its permission once, and every role gets exactly what the table says.

The expected table below is written out by hand from the role definitions agreed for ovtui
(SuperUser, ClusterAdmin, PowerUser, Operator, ReadOnly, Auditor): it is NOT derived from
auth.permissions, so a change to a role or to a route's declaration has to be made here too.

The read-scope part (below EXPECTED's tests) is generated from the routes as served: every GET
route, for every role granted at every scope, on an object inside and one outside the grant,
with each filter parameter set to an object outside it; no answer may name what the caller may
not read. Every route must declare what it authorises on (Require(..., target=...)).
"""

from __future__ import annotations

import itertools
import re
import shutil
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from fastapi import Depends
from fastapi.routing import APIRoute

from auth.local_users import LocalUser, write_local_users
from auth.passwords import hash_password
from auth.permissions import ROLES, Permission
from auth.principal import FILTERED_LISTS
from ovtui.api.app import create_app
from ovtui.api.authz import TARGETS, Public, Require
from ovtui.config.power_schema import PowerConfig
from ovtui.config.schema import GrantConfig
from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.provision.templates import blank
from ovtui.storage.move_model import DiskMove, Endpoint
from ovtui.testdriver_fleet import ClusterSpec, DatacenterSpec, FleetSpec, HostSpec, VmSpec, vm_uuid
from ovtui.testdriver_fleet.files import vm_mac
from tests.conftest import API, PASSWORD, ROLE_USERS, LiveEngine, engine_on, fleet_config
from tests.networks.fleet import add_networks
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
    # and are audited as failed, which is what this table can check. 409: authorised, refused
    # by the engine.
    statuses: tuple[int, ...] = (200, 201)
    result: str = "ok"


DISK_ROLES = frozenset({"SuperUser", "ClusterAdmin", "PowerUser"})
NET_ROLES = frozenset({"SuperUser", "ClusterAdmin"})
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
    # High availability (issue 13): power and fencing are host.fence, HA flags vm.ha.
    ("GET", f"{API}/ha"): Expect(ALL),
    ("POST", f"{API}/hosts/{{host}}/power"): Expect(
        frozenset({"SuperUser", "ClusterAdmin"}), "host.fence", "host", "host.power_on"
    ),
    ("POST", f"{API}/hosts/{{host}}/fence"): Expect(
        frozenset({"SuperUser", "ClusterAdmin"}), "host.fence", "host", "host.fence"
    ),
    # h3 answers: there is no reboot to confirm (409), but the call was authorised and audited.
    ("POST", f"{API}/hosts/{{host}}/confirm-rebooted"): Expect(
        frozenset({"SuperUser", "ClusterAdmin"}),
        "host.fence",
        "host",
        "host.confirm_rebooted",
        statuses=(409,),
        result="failed",
    ),
    ("PUT", f"{API}/vms/{{vm}}/ha"): Expect(
        frozenset({"SuperUser", "ClusterAdmin"}), "vm.ha", "vm", "vm.ha"
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
    # Logical networks (issue 17): reading is inventory.read; a VM's NICs are vm.network.
    ("GET", f"{API}/networks"): Expect(ALL),
    ("GET", f"{API}/mac-pools"): Expect(ALL),
    ("POST", f"{API}/vms/{{vm}}/nics"): Expect(
        frozenset({"SuperUser", "ClusterAdmin", "PowerUser"}), "vm.network", "vm", "vm.nic.add"
    ),
    ("POST", f"{API}/vms/{{vm}}/nics/{{mac}}/link"): Expect(
        frozenset({"SuperUser", "ClusterAdmin", "PowerUser"}), "vm.network", "vm", "vm.nic.link"
    ),
    ("DELETE", f"{API}/vms/{{vm}}/nics/{{mac}}"): Expect(
        frozenset({"SuperUser", "ClusterAdmin", "PowerUser"}), "vm.network", "vm", "vm.nic.remove"
    ),
    # Networks of a data center defined through the API: network.manage on the data center.
    ("POST", f"{API}/datacenters/{{datacenter}}/networks"): Expect(
        NET_ROLES, "network.manage", "datacenter", "network.create"
    ),
    ("PUT", f"{API}/datacenters/{{datacenter}}/networks/{{network}}/clusters"): Expect(
        NET_ROLES, "network.manage", "datacenter", "network.attach"
    ),
    ("DELETE", f"{API}/datacenters/{{datacenter}}/networks/{{network}}"): Expect(
        NET_ROLES, "network.manage", "datacenter", "network.delete"
    ),
}
# A network for the NIC routes (h1 has its bridge); NICs change on stopped VMs (the test driver
# cannot plug devices into a running one), one VM per role to add/link and one to remove from.
NETWORK_TOML = """
[[networks]]
name = "prod"
datacenter = "dc1"
bridge = "br-prod"
clusters = { c1 = "optional" }
"""
CALLERS = [*sorted(ALL), None]  # None: no Authorization header at all
_DISK_NUMBERS = itertools.count()


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
            VmSpec(f"nic-{_slug(role)}", 1, 512, "web", running=False),
            VmSpec(f"nicrm-{_slug(role)}", 1, 512, "web", running=False),
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
    if "/nics" in path:
        vm = f"nicrm-{slug}" if method == "DELETE" else f"nic-{slug}"
        path = path.replace("{mac}", vm_mac(VmSpec(vm, 1, 512, "web")))
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
    url = url.replace("{datacenter}", "dc1")
    if "{network}" in path:
        url = url.replace("{network}", _new_network(live))
    body: dict[str, Any] | None = None
    if path.endswith("/migrate"):
        body = {"target": "h2"}
    elif path.endswith("/maintenance"):
        body = {"reason": "rbac matrix"}
    elif path.endswith("/sessions") and method == "POST":
        body = {"username": ROLE_USERS.get(role or "SuperUser"), "password": PASSWORD}
    elif path.endswith("/grants") and method == "POST":
        body = {"user": f"someone-{slug}", "role": "ReadOnly", "scope": "cluster", "object": "c1"}
    elif path.endswith("/power"):
        body = {"action": "on"}
    elif path.endswith("/ha") and method == "PUT":
        body = {"ha": True, "priority": 50}
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
    elif path.endswith("/nics"):
        body = {"network": "prod"}
    elif path.endswith("/datacenters/{datacenter}/networks"):
        n = next(_DISK_NUMBERS)
        body = {"name": f"net-{n}", "bridge": f"brn{n}"}
    elif path.endswith("/networks/{network}/clusters"):
        body = {"clusters": {"c1": "optional"}}
    elif path.endswith("/link"):
        body = {"state": "down"}
    return method, url, body


def _new_disk(live: LiveEngine) -> str:
    """A disk made through the API (by the SuperUser) for the call under test to act on."""
    name = f"disk-{next(_DISK_NUMBERS)}"
    resp = live.as_role("SuperUser").post(
        f"{API}/storage/loc/disks", json={"name": name, "size_bytes": 1 << 20}
    )
    assert resp.status_code == 201, resp.text
    return name


def _new_network(live: LiveEngine) -> str:
    """A network of dc1 on no cluster, defined through the API (by the SuperUser)."""
    name = f"net-{next(_DISK_NUMBERS)}"
    body = {"name": name, "bridge": f"br-{name}"}
    resp = live.as_role("SuperUser").post(f"{API}/datacenters/dc1/networks", json=body)
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
    # h3 has command power management (a BMC that obeys at once and reports off), so that
    # power and fence calls succeed for the roles allowed them.
    config = fleet_config(_spec(), prepare=add_networks({"h1": ["br-prod"]}, {}, NETWORK_TOML))
    off = PowerConfig(kind="command", on=["true"], off=["true"], status=["sh", "-c", "exit 3"])
    hosts = [h.model_copy(update={"power": off}) if h.name == "h3" else h for h in config.hosts]
    # Local to h1, where the VMs are: test-driver hosts do not share volumes as real ones would.
    loc = StorageDomainConfig(name="loc", datacenter="dc1", type="local", path="/vm", hosts=["h1"])
    config = config.model_copy(update={"hosts": hosts, "storage_domains": [loc]})
    with engine_on(config) as running:
        yield running


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


# -- read scope: every GET route x every role x an object inside and outside a scoped grant ----
#
# Generated from the app's routes and their declarations (Require(permission, target=...)):
# a new GET route is checked as soon as it exists, and one that does not declare what it
# authorises on fails test_every_route_declares_its_scope. What each scope may read is written
# out below from the fleet's layout (not from auth.principal), and no answer — 200, 403 or 404 —
# may name an object the caller may not read (a plan's notes, a host's VMs, a 404's hints).

SCOPED = ("system", "datacenter", "cluster", "host", "vm")
GRANTED_ON = {"datacenter": "dc-in", "cluster": "cl-in", "host": "h-in", "vm": "vm-in"}
# Each object: (kind, name, datacenter, cluster, host); "twin" is the name of two VMs.
FLEET = (
    ("datacenter", "dc-in", "dc-in", None, None),
    ("datacenter", "dc-out", "dc-out", None, None),
    ("cluster", "cl-in", "dc-in", "cl-in", None),
    ("cluster", "cl-out", "dc-out", "cl-out", None),
    ("host", "h-in", "dc-in", "cl-in", "h-in"),
    ("host", "h-side", "dc-in", "cl-in", "h-side"),
    ("host", "h-out", "dc-out", "cl-out", "h-out"),
    ("host", "h-far", "dc-out", "cl-out", "h-far"),
    ("vm", "vm-in", "dc-in", "cl-in", "h-in"),
    ("vm", "twin", "dc-in", "cl-in", "h-in"),
    ("vm", "vm-side", "dc-in", "cl-in", "h-side"),
    ("vm", "vm-out", "dc-out", "cl-out", "h-out"),
    ("vm", "twin-out", "dc-out", "cl-out", "h-out"),  # renamed "twin" on the host (see below)
    ("vm", "vm-far", "dc-out", "cl-out", "h-far"),
    ("storage", "sd-in", "dc-in", None, None),  # a data center's object: no cluster, no host
    ("storage", "sd-out", "dc-out", None, None),
    ("template", "tp-in", "dc-in", None, None),  # a data center's object too
    ("template", "tp-out", "dc-out", None, None),
)
# Disk moves are read as their VM is; storage domains are seen by the hosts that see them, so a
# reader of such a host may see the domain's name (not the domain itself).
MOVES = {"mv-in": "vm-in", "mv-out": "vm-out"}
DOMAIN_HOSTS = {"sd-in": "h-in", "sd-out": "h-out"}
# Lists of a data center's objects: their items name the hosts that see them, so only the
# list's own objects must all be shown to whoever may read them.
OWN_KIND = {f"{API}/storage": "storage", f"{API}/disks": "storage"}
KIND_OF = {name: kind for kind, name, *_ in FLEET}
# The object a path names, inside and outside the grant of each scope.
PATH_OBJECTS = {
    "vm": ("vm-in", "vm-out"),
    "host": ("h-in", "h-out"),
    "cluster": ("cl-in", "cl-out"),
    "storage": ("sd-in", "sd-out"),
    "move": ("mv-in", "mv-out"),
    "template": ("tp-in", "tp-out"),
    "datacenter": ("dc-in", "dc-out"),
}
# Query parameters that filter by an object: asked with the object outside the grant.
FILTERS = {"datacenter": "dc-out", "cluster": "cl-out", "host": "h-out", "vm": "vm-out"}


def _readable(scope: str) -> set[str]:
    """What a grant at `scope` covers (spec names): the object and everything inside it."""
    if scope == "system":
        return {name for _, name, *_ in FLEET} | set(MOVES)
    obj = GRANTED_ON[scope]
    place = {"datacenter": 0, "cluster": 1, "host": 2}.get(scope)  # in (datacenter, cluster, host)
    names = {
        name
        for kind, name, *where in FLEET
        if (kind, name) == (scope, obj) or (place is not None and where[place] == obj)
    }
    return names | {move for move, vm in MOVES.items() if vm in names}


def _scoped_user(role: str, scope: str) -> str:
    return ROLE_USERS[role] if scope == "system" else f"{_slug(role)}-{scope}"


def _scope_spec() -> FleetSpec:
    sky = "Skylake-Server"
    # cl-out saves power: its preview drains a host and names it and its VMs in the notes.
    saving = {"HostsInReserve": 0, "CpuOverCommitDurationMinutes": 0}
    return FleetSpec(
        (DatacenterSpec("dc-in"), DatacenterSpec("dc-out")),
        (
            ClusterSpec("cl-in", "dc-in", sky),
            ClusterSpec("cl-out", "dc-out", sky, 150, "power_saving", "recommend", params=saving),
        ),
        (
            HostSpec("h-in", "cl-in", 8, 16384, sky, 2400,
                     (VmSpec("vm-in", 1, 512, "web"), VmSpec("twin", 1, 512, "web"))),
            HostSpec("h-side", "cl-in", 8, 16384, sky, 2400, (VmSpec("vm-side", 1, 512, "web"),)),
            HostSpec("h-out", "cl-out", 8, 16384, sky, 2400,
                     (VmSpec("vm-out", 1, 512, "web"), VmSpec("twin-out", 1, 512, "web"))),
            HostSpec("h-far", "cl-out", 8, 16384, sky, 2400, (VmSpec("vm-far", 1, 512, "web"),)),
        ),
    )  # fmt: skip


def _prepare_scopes(root: Path) -> None:
    """A user per role and scope (roles from grants only, as for directory users), and a
    second VM named "twin" (the spec wants unique names: it is renamed on its host)."""
    users = [LocalUser(user, hash_password(PASSWORD, n=2**12), frozenset({role}))
             for role, user in ROLE_USERS.items()]  # fmt: skip
    users += [
        LocalUser(_scoped_user(role, scope), users[0].password_hash, frozenset())
        for role in sorted(ALL)
        for scope in SCOPED[1:]
    ]
    write_local_users(root / "local-users.toml", users)
    node = root / "h-out.xml"
    node.write_text(node.read_text().replace("<name>twin-out</name>", "<name>twin</name>"))


@pytest.fixture(scope="module")
def scoped() -> Iterator[LiveEngine]:
    config = fleet_config(_scope_spec(), prepare=_prepare_scopes)
    domains = [
        StorageDomainConfig(name=sd, datacenter=dc, type="local", path=f"/{sd}", hosts=[host])
        for sd, dc, host in (("sd-in", "dc-in", "h-in"), ("sd-out", "dc-out", "h-out"))
    ]
    grants = [
        GrantConfig.model_validate(
            {"user": _scoped_user(role, scope), "role": role, "scope": scope, "object": obj}
        )
        for role in sorted(ALL)
        for scope, obj in GRANTED_ON.items()
    ]
    auth = config.auth.model_copy(update={"grants": grants})
    config = config.model_copy(update={"auth": auth, "storage_domains": domains})
    try:
        live = LiveEngine(config)
        try:
            for move, vm in MOVES.items():  # a finished move of each VM, as the store keeps it
                moved = live.engine.snapshot().vms_named(vm)[0]
                sd = "sd-in" if vm == "vm-in" else "sd-out"
                src, dst = Endpoint(sd, "a.qcow2", f"/{sd}/a.qcow2"), Endpoint(sd, "b.qcow2")
                done = DiskMove(move, vm, moved.uuid, moved.host, "vdb", True, src, dst, 1 << 20)
                live.engine.store.table("disk_moves").insert(
                    done.at("source_deleted", 1.0).as_dict()
                )
            for name, dc in (("tp-in", "dc-in"), ("tp-out", "dc-out")):  # as the store keeps them
                live.engine.store.table("templates").insert(
                    {**blank(), "name": name, "datacenter": dc, "created_by": "admin"}
                )
            yield live
        finally:
            live.stop()
    finally:
        shutil.rmtree(config.engine.store_dir.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def scoped_tokens(scoped: LiveEngine) -> dict[tuple[str, str], str]:
    return {(r, s): scoped.login(_scoped_user(r, s)) for r in sorted(ALL) for s in SCOPED}


def _unreadable_words(live: LiveEngine, scope: str) -> set[str]:
    """Names and UUIDs that must not appear in an answer to a caller with this scope: what the
    caller may not read, except where a readable object is (its data center, cluster, host).
    "twin" may appear when the caller reads one of the two VMs of that name."""
    mine = _readable(scope)
    around = {w for _, name, *where in FLEET if name in mine for w in where if w}
    around |= {sd for sd, host in DOMAIN_HOSTS.items() if host in mine | around}
    words = {name for _, name, *_ in FLEET if name not in mine | around}
    words |= {move for move in MOVES if move not in mine}
    for vm in live.engine.snapshot().vms:
        spec_name = "twin-out" if vm.host == "h-out" and vm.name == "twin" else vm.name
        if spec_name not in mine:
            words.add(vm.uuid)
    return words


def _get_routes(live: LiveEngine) -> list[Any]:
    return sorted((r for r in _routes(live) if "GET" in r.methods), key=lambda r: str(r.path))


def _undeclared(routes: list[Any]) -> list[str]:
    return [
        f"{sorted(r.methods)} {r.path}"
        for r in routes
        for d in _declarations(r)
        if isinstance(d, Require) and d.permission is not None and d.target not in TARGETS
    ]


def test_every_route_declares_its_scope(live: LiveEngine) -> None:
    """Require(permission) without target= would authorise on the whole system, where a scoped
    grant of inventory.read passes: the route must say what it reads (or that it filters)."""
    undeclared = _undeclared(_routes(live))
    assert not undeclared, (
        "declare target= (vm, host, cluster: the object in the path; list: the route shows "
        "only what the caller may read; system: system-wide roles only):\n" + "\n".join(undeclared)
    )


def test_a_new_route_without_a_scope_is_caught(
    live: LiveEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk sees a route added later, as the policy routes once were: reading a cluster's
    data with Require(inventory.read) alone."""

    served = create_app

    def with_new_route(engine: Any) -> Any:
        app = served(engine)

        @app.get(
            f"{API}/secrets/{{cluster}}", dependencies=[Depends(Require(Permission.INVENTORY_READ))]
        )
        async def secrets(cluster: str) -> str:
            return cluster

        return app

    monkeypatch.setattr(sys.modules[__name__], "create_app", with_new_route)
    assert _undeclared(_routes(live)) == [f"['GET'] {API}/secrets/{{cluster}}"]


def _expected(decl: Require | Public, role: str, scope: str, obj: str | None) -> int:
    """From the route's path first: one naming an object answers only on that object's scope,
    whatever it declares. Without one: system-wide roles only, or a list for any holder."""
    if isinstance(decl, Public) or decl.permission is None:
        return 200
    holds = decl.permission in ROLES[role]
    if obj is not None:
        return 200 if holds and obj in _readable(scope) else 403
    if decl.target == "system" or decl.permission not in FILTERED_LISTS:
        return 200 if holds and scope == "system" else 403
    return 200 if holds else 403  # a list: what it shows is checked word by word


def _scope_requests(route: Any) -> list[tuple[str, dict[str, str], str | None]]:
    """(path, query, object named) for the object inside, the one outside, and each filter."""
    params = set(route.param_convertors)
    unknown = params - PATH_OBJECTS.keys()
    assert not unknown, f"GET {route.path}: teach the scope matrix the path parameter {unknown}"
    out: list[tuple[str, dict[str, str], str | None]] = []
    if params:
        (param,) = params
        for obj in PATH_OBJECTS[param]:
            out.append((route.path.replace(f"{{{param}}}", obj), {}, obj))
            if param == "vm":  # by UUID too: a refusal must not tell the name
                out.append((route.path.replace("{vm}", vm_uuid(obj)), {}, obj))
    else:
        out.append((route.path, {}, None))
    query = {p.name for p in route.dependant.query_params}
    for name in sorted(query & FILTERS.keys()):
        out += [(path, {name: FILTERS[name]}, obj) for path, _, obj in out[:1]]
    # A parameter with fixed values (a plan's kind) may change what is shown: each value, on
    # each object.
    for param in route.dependant.query_params:
        for value in _fixed_values(param.field_info.annotation):
            query = {param.name: value, **NEEDS.get(param.name, {})}
            out += [(path, query, obj) for path, q, obj in list(out) if not q]
    return out


# A parameter that applies only beside another (GET /vms: precision with since): sent with it.
NEEDS = {"precision": {"since": "start"}}


def _fixed_values(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return [str(v) for v in typing.get_args(annotation)]
    return [v for arg in typing.get_args(annotation) for v in _fixed_values(arg)]


@pytest.mark.parametrize("scope", SCOPED)
@pytest.mark.parametrize("role", sorted(ALL))
def test_read_scope_matrix(
    scoped: LiveEngine, scoped_tokens: dict[tuple[str, str], str], role: str, scope: str
) -> None:
    client = scoped.client(scoped_tokens[role, scope])
    hidden = _unreadable_words(scoped, scope)
    problems = []
    for route in _get_routes(scoped):
        (decl,) = _declarations(route)
        for url, query, obj in _scope_requests(route):
            resp = client.get(url, params=query)
            asked = (
                f"GET {url}{'?' if query else ''}{'&'.join(f'{k}={v}' for k, v in query.items())}"
            )
            want = _expected(decl, role, scope, obj)
            if resp.status_code != want:
                problems.append(f"{asked}: {resp.status_code}, expected {want}: {resp.text[:200]}")
            named = {w for w in hidden if w in resp.text and w not in asked}
            if named:
                problems.append(f"{asked}: {resp.status_code} names {sorted(named)}")
            if want == 200 and isinstance(decl, Require) and decl.target == "list" and not query:
                # ... and a list still shows what the caller may read (filtering is not hiding
                # everything): each readable object the whole list names.
                everything = scoped.client(scoped_tokens["SuperUser", "system"]).get(url).text
                lost = {w for w in _readable(scope) if w in everything and w not in resp.text}
                if url in OWN_KIND:  # its items name hosts the caller may read: not its objects
                    lost = {w for w in lost if KIND_OF.get(w) == OWN_KIND[url]}
                if lost:
                    problems.append(f"{asked}: leaves out {sorted(lost)}")
    who = f"{role} on {scope} {GRANTED_ON.get(scope, '')}".strip()
    assert not problems, f"{who} ({_scoped_user(role, scope)}):\n" + "\n".join(problems)


def test_a_scoped_grant_lists_its_own_clusters_policies(
    scoped: LiveEngine, scoped_tokens: dict[tuple[str, str], str]
) -> None:
    def listed(role: str, scope: str) -> list[str]:
        resp = scoped.client(scoped_tokens[role, scope]).get(f"{API}/policies")
        assert resp.status_code == 200, resp.text
        return [p["cluster"] for p in resp.json()]

    assert listed("ClusterAdmin", "cluster") == ["cl-in"]
    assert listed("ReadOnly", "datacenter") == ["cl-in"]
    assert listed("ReadOnly", "vm") == []
    assert listed("ReadOnly", "system") == ["cl-in", "cl-out"]


def test_an_unknown_cluster_is_404_naming_only_readable_clusters(
    scoped: LiveEngine, scoped_tokens: dict[tuple[str, str], str]
) -> None:
    for path in ("policies/nope", "policies/nope/plan", "policies/nope/preview"):
        resp = scoped.client(scoped_tokens["ClusterAdmin", "cluster"]).get(f"{API}/{path}")
        assert resp.status_code == 404, resp.text
        assert resp.json()["error"]["message"] == "no cluster named 'nope' (clusters: cl-in)"
    resp = scoped.client(scoped_tokens["ReadOnly", "vm"]).get(f"{API}/policies/nope")
    assert (
        resp.json()["error"]["message"] == "no cluster named 'nope' (clusters: none you may read)"
    )
    resp = scoped.client(scoped_tokens["ReadOnly", "system"]).get(f"{API}/policies/nope")
    assert resp.json()["error"]["message"] == "no cluster named 'nope' (clusters: cl-in, cl-out)"


def test_an_unknown_template_is_404_naming_only_readable_templates(
    scoped: LiveEngine, scoped_tokens: dict[tuple[str, str], str]
) -> None:
    """Blank is everyone's (the list shows it); the others are their data center's."""

    def message(role: str, scope: str) -> str:
        resp = scoped.client(scoped_tokens[role, scope]).get(f"{API}/templates/nope")
        assert resp.status_code == 404, resp.text
        return str(resp.json()["error"]["message"])

    assert message("ReadOnly", "datacenter") == "no template named 'nope' (templates: Blank, tp-in)"
    assert message("ReadOnly", "vm") == "no template named 'nope' (templates: Blank)"
    assert message("ReadOnly", "system") == (
        "no template named 'nope' (templates: Blank, tp-in, tp-out)"
    )
    blank_shown = scoped.client(scoped_tokens["ReadOnly", "vm"]).get(f"{API}/templates/Blank")
    assert blank_shown.status_code == 200, blank_shown.text
    refused = scoped.client(scoped_tokens["ClusterAdmin", "cluster"]).delete(
        f"{API}/templates/Blank"
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["message"].startswith(
        "clusteradmin-cluster may not template.manage on template Blank"
    )


def test_a_vm_name_is_unique_among_the_vms_the_caller_may_read(
    scoped: LiveEngine, scoped_tokens: dict[tuple[str, str], str]
) -> None:
    """Two VMs are named "twin" (h-in and h-out): a caller who reads one of them gets it, and is
    never told about the other; one who reads both is asked for the UUID."""
    out_uuid = next(v.uuid for v in scoped.engine.snapshot().vms_named("twin") if v.host == "h-out")
    mine = scoped.client(scoped_tokens["Operator", "cluster"])
    resp = mine.get(f"{API}/vms/twin")
    assert resp.status_code == 200, resp.text
    assert resp.json()["host"] == "h-in"
    # an action by name acts on the VM the caller reads, not on the other one
    resp = mine.post(f"{API}/vms/twin/reboot")
    assert resp.status_code == 200, resp.text
    assert out_uuid not in resp.text and "h-out" not in resp.text

    resp = scoped.client(scoped_tokens["ReadOnly", "vm"]).get(f"{API}/vms/twin")
    assert resp.status_code == 403, resp.text
    assert out_uuid not in resp.text and "h-out" not in resp.text

    resp = scoped.client(scoped_tokens["ReadOnly", "system"]).get(f"{API}/vms/twin")
    assert resp.status_code == 409, resp.text
    assert out_uuid in resp.text and "2 VMs are named 'twin'" in resp.text


def _action_body(path: str, method: str) -> dict[str, Any] | None:
    """A valid body, so that only authorisation can refuse the request."""
    ends: dict[str, dict[str, Any]] = {
        "/migrate": {"target": "h-far"},
        "/maintenance": {"reason": "scope matrix"},
        "/apply-step": {"step": 0},
        "/apply": {},
        "/nics": {"network": "prod"},
        "/link": {"state": "down"},
        "/networks": {"name": "n1", "bridge": "br-n1"},
        "/clusters": {"clusters": {}},
    }
    if path.endswith("/mode") and method == "PUT":
        return {"mode": "off"}
    return next((body for end, body in ends.items() if path.endswith(end)), None)


@pytest.mark.parametrize("scope", SCOPED[1:])
def test_no_scoped_grant_acts_outside_it(
    scoped: LiveEngine, scoped_tokens: dict[tuple[str, str], str], scope: str
) -> None:
    """Every route that changes an object named in its path, for every role granted at `scope`,
    on the object outside the grant: refused (and so nothing moved, rebooted or drained)."""
    problems = []
    checked = 0
    for route in _routes(scoped):
        params = set(route.param_convertors) - {"action", "mac"}
        if "GET" in route.methods or not params & PATH_OBJECTS.keys():
            continue
        (param,) = params & PATH_OBJECTS.keys()
        url = route.path.replace(f"{{{param}}}", PATH_OBJECTS[param][1])
        # what the object holds (a disk, a VM's device): authorisation on the object comes first
        url = url.replace("{action}", "reboot").replace("{disk}", "d1").replace("{target}", "vda")
        url = url.replace("{mac}", "52:54:00:00:00:01").replace("{network}", "n1")
        for method in sorted(route.methods):
            body = _action_body(route.path, method)
            for role in sorted(ALL):
                client = scoped.client(scoped_tokens[role, scope])
                resp = client.request(method, url, json=body)
                checked += 1
                if resp.status_code != 403:
                    problems.append(f"{role}: {method} {url}: {resp.status_code} {resp.text[:200]}")
    assert checked >= 6 * len(ALL), f"only {checked} requests: is the walk still right?"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("permission", "target", "message"),
    [
        (Permission.INVENTORY_READ, "system", 'filtered list: target="list"'),
        (Permission.EVENTS_READ, "list", 'system-wide role: target="system"'),
        (Permission.INVENTORY_READ, "datacentre", "target: unknown 'datacentre'"),
    ],
)
def test_a_declaration_that_does_not_say_what_it_reads_is_refused(
    permission: Permission, target: str, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Require(permission, target=target)
