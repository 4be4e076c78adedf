"""Read-only inventory over the real socket: what the API reports is what the node files hold."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi.routing import APIRoute

from ovtui import __version__
from ovtui.api.app import create_app
from ovtui.model import VmState
from ovtui.testdriver_fleet import (
    ClusterSpec,
    DatacenterSpec,
    FleetSpec,
    HostSpec,
    VmSpec,
    host_uri,
    vm_uuid,
)
from tests.conftest import API, LiveEngine, running_engine

SKY, ROME = "Skylake-Server", "EPYC-Rome"


def _spec() -> FleetSpec:
    h1 = (
        VmSpec("web-1", 2, 4096, "web", ha=True),
        VmSpec("web-2", 1, 2048, "web"),
        VmSpec("db-1", 8, 16384, "db", pinned=True, anti_affinity="pg"),
        VmSpec("edge-1", 2, 4096, "api", affinity="edge"),
        VmSpec("off-1", 4, 8192, "batch", running=False),
    )
    h2 = (
        VmSpec("db-2", 8, 16384, "db", migratable=False, anti_affinity="pg"),
        VmSpec("web-3", 2, 4096, "web"),
    )
    h3 = (VmSpec("other-1", 4, 8192, "cache"), VmSpec("off-2", 1, 1024, "jump", running=False))
    c1_params = {"HighUtilization": 80}
    return FleetSpec(
        datacenters=(DatacenterSpec("dc1", "first site"), DatacenterSpec("dc2", "second site")),
        clusters=(
            ClusterSpec("c1", "dc1", SKY, 150, "evenly_distributed", "recommend", params=c1_params),
            ClusterSpec(
                "c2", "dc2", ROME, 120, "power_saving", "automatic", resiliency="migrate_ha_only"
            ),
        ),
        hosts=(
            HostSpec("h1", "c1", 16, 65536, SKY, 2400, h1),
            HostSpec("h2", "c1", 8, 32768, SKY, 2600, h2),
            HostSpec("h3", "c2", 24, 49152, ROME, 2800, h3),
        ),
    )


SPEC = _spec()


@pytest.fixture(scope="module")
def live() -> Iterator[LiveEngine]:
    with running_engine(SPEC) as running:  # nothing here changes the fleet
        yield running


@pytest.fixture(scope="module")
def api(live: LiveEngine) -> httpx.Client:
    return live.as_role("ReadOnly")


def _names(rows: list[dict[str, Any]]) -> set[str]:
    return {r["name"] for r in rows}


def _error(resp: httpx.Response) -> str:
    message: str = resp.json()["error"]["message"]
    assert resp.json()["error"]["status"] == resp.status_code
    return message


def test_datacenters(api: httpx.Client) -> None:
    assert api.get(f"{API}/datacenters").json() == [
        {"name": "dc1", "description": "first site"},
        {"name": "dc2", "description": "second site"},
    ]


def test_clusters_carry_their_settings(api: httpx.Client) -> None:
    rows = {c["name"]: c for c in api.get(f"{API}/clusters").json()}
    assert set(rows) == {"c1", "c2"}
    assert rows["c1"] == {
        "name": "c1",
        "datacenter": "dc1",
        "cpu_model": SKY,
        "memory_overcommit_percent": 150,
        "resiliency": "migrate",
        "scheduling_policy": "evenly_distributed",
        "scheduling_mode": "recommend",
        "scheduling_params": {"HighUtilization": 80},
    }
    assert (rows["c2"]["datacenter"], rows["c2"]["scheduling_mode"]) == ("dc2", "automatic")
    assert rows["c2"]["resiliency"] == "migrate_ha_only"


def test_clusters_filtered_by_datacenter(api: httpx.Client) -> None:
    assert _names(api.get(f"{API}/clusters", params={"datacenter": "dc2"}).json()) == {"c2"}
    assert api.get(f"{API}/clusters", params={"datacenter": "dc9"}).json() == []


def _node_facts(path: Path) -> tuple[int, int, str]:
    root = ET.parse(path).getroot()
    cpus = int(root.findtext("cpu/active") or 0)
    memory_mib = int(root.findtext("memory") or 0) // 1024  # the node file says KiB
    return cpus, memory_mib, root.findtext("cpu/model") or ""


def test_hosts_match_their_node_files(live: LiveEngine, api: httpx.Client) -> None:
    rows = {h["name"]: h for h in api.get(f"{API}/hosts").json()}
    assert set(rows) == {"h1", "h2", "h3"}
    for spec in SPEC.hosts:
        host, node = rows[spec.name], live.node_file(spec.name)
        cpus, memory_mib, model = _node_facts(node)
        assert (host["cpus"], host["memory_mib"], host["cpu_model"]) == (cpus, memory_mib, model)
        assert (cpus, memory_mib) == (spec.cpus, spec.memory_mib)
        running = [v for v in spec.vms if v.running]
        assert host["state"] == "up" and host["state_reason"] == ""
        assert host["cluster"] == spec.cluster
        assert host["datacenter"] == SPEC.cluster(spec.cluster).datacenter
        assert host["uri"] == host_uri(node)
        assert host["vms_running"] == len(running)
        assert host["memory_used_mib"] == sum(v.memory_mib for v in running)
        assert host["vcpus_committed"] == sum(v.vcpus for v in running)
        assert host["load_source"] == "synthetic"  # test-driver fleets say so, everywhere
        assert host["live_migration"] is False  # the test driver cannot migrate live
        assert host["maintenance"] is False and host["power_management"] is False
        assert isinstance(host["last_seen"], float)


def test_vms_match_the_spec(api: httpx.Client) -> None:
    rows = {v["uuid"]: v for v in api.get(f"{API}/vms").json()}
    assert len(rows) == sum(len(h.vms) for h in SPEC.hosts) == 9
    for host, spec in SPEC.vms():
        vm = rows[spec.uuid]
        assert vm == {
            **vm,
            "name": spec.name,
            "host": host.name,
            "cluster": host.cluster,
            "datacenter": SPEC.cluster(host.cluster).datacenter,
            "state": "running" if spec.running else "shutoff",
            "vcpus": spec.vcpus,
            "memory_mib": spec.memory_mib,
            "load_source": "synthetic",
            "highly_available": spec.ha,
            "pinned": spec.pinned,
            "migratable": spec.migratable,
            "role": spec.role,
            "affinity_group": spec.affinity,
            "anti_affinity_group": spec.anti_affinity,
            "persistent": True,
        }, spec.name
        if spec.running:
            assert 0.0 <= vm["cpu_usage"] <= 1.0
        else:
            assert vm["cpu_usage"] == 0.0


def test_shut_off_vms_are_listed_but_use_nothing(api: httpx.Client) -> None:
    off = api.get(f"{API}/vms", params={"state": "shutoff"}).json()
    assert _names(off) == {"off-1", "off-2"}
    h1 = api.get(f"{API}/hosts/h1").json()
    assert h1["memory_used_mib"] == 4096 + 2048 + 16384 + 4096  # off-1's 8 GiB not counted


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"host": "h1"}, {"web-1", "web-2", "db-1", "edge-1", "off-1"}),
        ({"host": "h3"}, {"other-1", "off-2"}),
        ({"cluster": "c1"}, {"web-1", "web-2", "db-1", "edge-1", "off-1", "db-2", "web-3"}),
        ({"datacenter": "dc2"}, {"other-1", "off-2"}),
        ({"state": "running", "host": "h1"}, {"web-1", "web-2", "db-1", "edge-1"}),
        ({"name": "web"}, {"web-1", "web-2", "web-3"}),
        ({"name": "db-", "cluster": "c1"}, {"db-1", "db-2"}),
        ({"name": "nothing-like-this"}, set()),
        ({"host": "h9"}, set()),
        ({"state": "paused"}, set()),
    ],
)
def test_vm_filters(api: httpx.Client, params: dict[str, str], expected: set[str]) -> None:
    resp = api.get(f"{API}/vms", params=params)
    assert resp.status_code == 200
    assert _names(resp.json()) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"cluster": "c1"}, {"h1", "h2"}),
        ({"datacenter": "dc2"}, {"h3"}),
        ({"state": "up"}, {"h1", "h2", "h3"}),
        ({"state": "maintenance"}, set()),
        ({"cluster": "c2", "state": "up"}, {"h3"}),
    ],
)
def test_host_filters(api: httpx.Client, params: dict[str, str], expected: set[str]) -> None:
    assert _names(api.get(f"{API}/hosts", params=params).json()) == expected


@pytest.mark.parametrize(
    ("path", "params", "names"),
    [
        ("vms", {"state": "on"}, ("query.state", "'running'", "'shutoff'")),
        ("hosts", {"state": "sideways"}, ("query.state", "'up'", "'non_responsive'")),
        ("events", {"limit": "0"}, ("query.limit", "greater than or equal to 1")),
        ("events", {"limit": "lots"}, ("query.limit",)),
        ("audit", {"since": "yesterday"}, ("query.since",)),
    ],
)
def test_invalid_filter_value_is_422_naming_the_parameter(
    live: LiveEngine, path: str, params: dict[str, str], names: tuple[str, ...]
) -> None:
    resp = live.as_role("SuperUser").get(f"{API}/{path}", params=params)
    assert resp.status_code == 422
    message = _error(resp)
    assert message.startswith("invalid request: ")
    for word in names:
        assert word in message


def test_unknown_host_is_404_saying_how_to_list_hosts(api: httpx.Client) -> None:
    resp = api.get(f"{API}/hosts/kvm-99")
    assert resp.status_code == 404
    assert _error(resp) == "no host named 'kvm-99' (list them: ovtui host list)"


def test_unknown_vm_is_404_saying_how_to_list_vms(live: LiveEngine, api: httpx.Client) -> None:
    resp = api.get(f"{API}/vms/web-99")
    assert resp.status_code == 404
    assert _error(resp) == "no VM named or with UUID 'web-99' (list them: ovtui vm list)"
    # actions resolve the VM the same way, before doing anything
    resp = live.as_role("SuperUser").post(f"{API}/vms/web-99/poweroff")
    assert resp.status_code == 404 and "web-99" in _error(resp)


def test_vm_by_uuid_equals_vm_by_name(api: httpx.Client) -> None:
    by_name = api.get(f"{API}/vms/db-2").json()
    by_uuid = api.get(f"{API}/vms/{vm_uuid('db-2')}").json()
    assert by_name == by_uuid
    assert (by_name["uuid"], by_name["host"], by_name["migratable"]) == (
        vm_uuid("db-2"),
        "h2",
        False,
    )


def test_host_detail_lists_its_vms(api: httpx.Client) -> None:
    detail = api.get(f"{API}/hosts/h3").json()
    listed = api.get(f"{API}/hosts").json()
    assert {k: v for k, v in detail.items() if k != "vms"} == next(
        h for h in listed if h["name"] == "h3"
    )
    assert _names(detail["vms"]) == {"other-1", "off-2"}
    assert all(v["host"] == "h3" for v in detail["vms"])


def test_health_is_public(live: LiveEngine) -> None:
    resp = live.client().get(f"{API}/health")  # no token
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok" and body["version"] == __version__
    assert (body["hosts"], body["hosts_up"], body["hosts_read"]) == (3, 3, 3)
    assert body["exporter_port"] is None  # these test engines serve no /metrics


def test_inventory_needs_a_session(live: LiveEngine) -> None:
    for path in ("datacenters", "clusters", "hosts", "vms", "hosts/h1", "vms/web-1"):
        assert live.client().get(f"{API}/{path}").status_code == 401, path


def _served_routes(live: LiveEngine) -> set[tuple[str, str]]:
    app = create_app(live.engine)
    iter_contexts: Callable[..., Any] | None = getattr(fastapi.routing, "iter_route_contexts", None)
    if iter_contexts is None:
        routes: list[Any] = [r for r in app.routes if isinstance(r, APIRoute)]
    else:
        routes = [c for c in iter_contexts(app.routes) if isinstance(c.original_route, APIRoute)]
    return {(m.lower(), r.path) for r in routes for m in r.methods}


def test_openapi_document_lists_every_route(live: LiveEngine) -> None:
    resp = live.client().get("/openapi.json")
    assert resp.status_code == 200
    doc = resp.json()
    assert doc["info"]["title"] == "ovtui engine API" and doc["info"]["version"] == __version__
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    served = _served_routes(live)
    assert len(served) >= 15
    assert served == documented
    # filters are documented with their valid values
    params = {p["name"]: p for p in doc["paths"][f"{API}/vms"]["get"]["parameters"]}
    assert set(params) == {"host", "cluster", "datacenter", "state", "name", "since", "precision"}
    refs = [s.get("$ref", "") for s in params["state"]["schema"]["anyOf"]]
    schema = doc["components"]["schemas"][next(r for r in refs if r).rsplit("/", 1)[1]]
    assert set(schema["enum"]) == {s.value for s in VmState}


def _rename_vm(host: str, old: str, new: str) -> Callable[[Path], None]:
    """Renames a VM in a written node file (spec validation forbids duplicate names)."""

    def prepare(root: Path) -> None:
        node = root / f"{host}.xml"
        text = node.read_text()
        assert f"<name>{old}</name>" in text
        node.write_text(text.replace(f"<name>{old}</name>", f"<name>{new}</name>"))

    return prepare


def test_ambiguous_vm_name_is_409_listing_uuids(start_engine) -> None:
    spec = FleetSpec(
        (DatacenterSpec("dc1"),),
        (ClusterSpec("c1", "dc1", SKY),),
        (
            HostSpec("h1", "c1", 8, 16384, SKY, 2400, (VmSpec("app", 1, 1024, "web"),)),
            HostSpec("h2", "c1", 8, 16384, SKY, 2400, (VmSpec("app-copy", 1, 1024, "web"),)),
        ),
    )
    live = start_engine(spec, prepare=_rename_vm("h2", "app-copy", "app"))
    admin = live.as_role("SuperUser")
    first, second = vm_uuid("app"), vm_uuid("app-copy")
    listed = admin.get(f"{API}/vms", params={"name": "app"}).json()
    assert sorted((v["name"], v["host"], v["uuid"]) for v in listed) == [
        ("app", "h1", first),
        ("app", "h2", second),
    ]
    resp = admin.get(f"{API}/vms/app")
    assert resp.status_code == 409
    message = _error(resp)
    assert message.startswith("2 VMs are named 'app' (")
    assert f"{first} on h1" in message and f"{second} on h2" in message
    assert message.endswith(": use the UUID")
    # an action by name is refused the same way, before anything happens to either VM
    before = live.engine.audit_log.last_seq
    resp = admin.post(f"{API}/vms/app/poweroff")
    assert resp.status_code == 409 and first in _error(resp)
    # audited as a refusal, not as an action: nothing was done to either VM
    [refused] = live.engine.audit_log.read(since_seq=before)
    assert (refused["action"], refused["result"]) == ("POST /api/v1/vms/{vm}/{action}", "refused")
    assert refused["params"] == {"status": 409}
    # and the UUID picks exactly one
    assert admin.get(f"{API}/vms/{second}").json()["host"] == "h2"
    resp = admin.post(f"{API}/vms/{second}/poweroff")
    assert resp.status_code == 200 and resp.json()["host"] == "h2"
