"""Creating, starting and deleting VMs through the API on test-driver hosts.

Every refused create is followed by a look at the pool: nothing half-made may stay behind
(no volume, no definition, no record).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ovtui.fleet.errors import FleetError
from ovtui.testdriver_fleet import ClusterSpec, DatacenterSpec, FleetSpec, HostSpec, VmSpec
from tests.conftest import API, LiveEngine
from tests.storage.helpers import all_read, wait_storage, with_domains

SKY = "Skylake-Server"
GIB = 1 << 30


def _spec() -> FleetSpec:
    """h1 busy (a 6 GiB VM), h2 and h3 empty but h3 the larger: a new VM goes to h3."""
    return FleetSpec(
        (DatacenterSpec("dc1"),),
        (ClusterSpec("c1", "dc1", SKY, memory_overcommit_percent=100),),
        (
            HostSpec("h1", "c1", 8, 8192, SKY, 2400, (VmSpec("big", 2, 6144, "db"),)),
            HostSpec("h2", "c1", 8, 8192, SKY, 2400, ()),
            HostSpec("h3", "c1", 8, 12288, SKY, 2400, ()),
        ),
    )


@pytest.fixture
def live(start_engine: Callable[..., LiveEngine]) -> LiveEngine:
    config = with_domains(
        _spec(), [{"name": "shared", "type": "shared_dir", "path": "/srv/shared"}]
    )
    live = start_engine(config=config)
    wait_storage(live.as_role("SuperUser"), all_read)
    return live


def _state(live: LiveEngine) -> tuple[list[str], list[str], list[str]]:
    """(pool volumes, ovtui's VM definitions, VM names the fleet shows)."""
    live.settle()
    pool = [v for h in ("h1", "h2", "h3") for v in _pool_of(live, h)]
    defs = [r["name"] for r in live.engine.provision.definitions.all()]
    return pool, defs, sorted(v.name for v in live.engine.snapshot().vms)


def _pool_of(live: LiveEngine, host: str) -> list[str]:
    async def read() -> list[str]:
        r = await live.engine.storage.refresh("shared", host)
        return [v.name for v in r.volumes]

    return live.run(read())


def _create(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post(f"{API}/clusters/c1/vms", json={"name": "web-1", **body})


def test_create_places_by_free_memory_and_starts(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    resp = _create(
        admin,
        vcpus=2,
        memory_mib=1024,
        disks=[{"storage": "shared", "size_bytes": GIB}],
        nics=[{"source": "br0"}],
        highly_available=True,
        ha_priority=60,
        affinity_group="web",
        start=True,
    )
    assert resp.status_code == 201, resp.text
    made = resp.json()
    assert made["host"] == "h3" and made["started"]
    assert made["placement"].startswith("h3: the most free memory")
    assert "among 3 hosts that pass the filters" in made["placement"]
    assert made["disks"] == [
        {"domain": "shared", "volume": "web-1-disk1.qcow2", "format": "qcow2", "target": "vda"}
    ]
    live.settle()
    (vm,) = live.engine.snapshot().vms_named("web-1")
    assert (vm.host, vm.state.value, vm.vcpus, vm.memory_mib) == ("h3", "running", 2, 1024)
    assert vm.highly_available and vm.affinity_group == "web"
    assert vm.devices is not None and vm.devices.disks[0].source == "ovtui-shared/web-1-disk1.qcow2"
    assert live.engine.store.vm_settings(vm.uuid) == {"ha": True, "ha_priority": 60} | {
        k: v
        for k, v in live.engine.store.vm_settings(vm.uuid).items()
        if k not in ("ha", "ha_priority")
    }
    rec = live.engine.provision.definitions.get(vm.uuid)
    assert rec is not None and rec["host"] == "h3" and rec["created_by"] == "admin"
    reg = live.engine.metrics.registry
    assert (
        reg.get_sample_value("ovtui_vm_provisions_total", {"kind": "create", "result": "ok"}) == 1
    )
    count = "ovtui_vm_provision_duration_seconds_count"
    assert reg.get_sample_value(count, {"kind": "create"}) == 1
    audit = [r for r in live.audit_records() if r["action"] == "vm.create"]
    assert [(a["result"], a["detail"]) for a in audit] == [
        ("ok", "created web-1 on h3 and started it")
    ]


def test_bad_input_is_refused_and_leaves_nothing(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    assert _create(admin, name="taken-1").status_code == 201
    before = _state(live)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"name": "a b"}, 400, "name 'a b' is not allowed"),
        ({"name": "big"}, 409, "a VM named 'big' already exists in data center dc1 (on h1)"),
        ({"name": "taken-1"}, 409, "'taken-1' already exists"),
        ({"template": "golden"}, 400, "no template named 'golden'"),
        ({"disks": [{"storage": "nope", "size_bytes": GIB}]}, 400, "no storage domain named"),
        ({"memory_mib": 65536}, 400, "more than any host of cluster c1 has"),
        ({"vcpus": 64}, 400, "64 vCPUs are more than any host"),
        ({"host": "h9"}, 400, "host 'h9' is not in cluster c1"),
        ({"memory_mib": 10240, "host": "h2"}, 409, "cannot place web-1"),
        # the second disk is too big for the domain: the first must not stay behind
        (
            {"disks": [{"storage": "shared", "size_bytes": GIB},
                       {"storage": "shared", "size_bytes": 1 << 49}]},
            409,
            "disk 2: 524288.0 GiB is larger than storage domain shared holds (100.0 GiB)",
        ),
    ]  # fmt: skip
    for body, status, words in cases:
        resp = _create(admin, **body)
        assert resp.status_code == status, (body, resp.text)
        assert words in resp.json()["error"]["message"], resp.text
        assert _state(live) == before, body
    # a NIC without a source: refused by the request's schema
    resp = _create(admin, disks=[{"storage": "shared", "size_bytes": GIB}], nics=[{"source": ""}])
    assert resp.status_code == 422
    assert _state(live) == before


def test_a_failure_after_the_disks_were_made_undoes_them(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    before = _state(live)
    engine = live.engine
    original = engine.provision._record

    def boom(*args: Any, **kw: Any) -> None:
        original(*args, **kw)
        raise FleetError("the store is full", kind="unavailable")

    engine.provision._record = boom  # type: ignore[method-assign]
    try:
        resp = _create(admin, disks=[{"storage": "shared", "size_bytes": GIB}] * 2)
    finally:
        engine.provision._record = original  # type: ignore[method-assign]
    assert resp.status_code == 503 and resp.json()["error"]["message"] == "the store is full"
    failed = {"kind": "create", "result": "failed"}
    assert live.engine.metrics.registry.get_sample_value("ovtui_vm_provisions_total", failed) == 1
    assert _state(live) == before
    assert engine.store.table("disks").all() == []


def test_start_moves_a_down_vm_to_the_best_host_now(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    made = _create(admin, name="later", memory_mib=1024, host="h1").json()
    assert made["host"] == "h1" and not made["started"]
    # h1 is the worst host now (its 6 GiB VM): starting chooses h3 and moves the definition.
    resp = admin.post(f"{API}/vms/later/start")
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["host"] == "h3" and "moved from h1" in out["result"]
    assert out["placement"].startswith("h3: the most free memory")
    live.settle()
    (vm,) = live.engine.snapshot().vms_named("later")
    assert (vm.host, vm.state.value) == ("h3", "running")
    assert live.engine.provision.definitions.get(vm.uuid)["host"] == "h3"


def test_a_vm_defined_outside_ovtui_starts_where_it_is(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    assert admin.post(f"{API}/vms/big/poweroff").status_code == 200
    out = admin.post(f"{API}/vms/big/start").json()
    assert out["host"] == "h1" and "placement" not in out


def test_delete_with_and_without_disks(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    for name in ("keep", "drop"):
        body = {"name": name, "disks": [{"storage": "shared", "size_bytes": GIB}], "host": "h2"}
        assert admin.post(f"{API}/clusters/c1/vms", json=body).status_code == 201
    live.settle()
    shown = admin.get(f"{API}/vms/drop/disks").json()
    assert [(d["target"], d["source"]) for d in shown] == [("vda", "ovtui-shared/drop-disk1.qcow2")]
    resp = admin.delete(f"{API}/vms/drop", params={"disks": "true"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["deleted_disks"] == ["shared/drop-disk1.qcow2"]
    resp = admin.delete(f"{API}/vms/keep")
    assert resp.status_code == 200 and resp.json()["deleted_disks"] == []
    pool, defs, vms = _state(live)
    assert pool == ["keep-disk1.qcow2"] and defs == [] and vms == ["big"]


def test_delete_refuses_a_running_vm_and_roles_without_the_right(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    resp = admin.delete(f"{API}/vms/big")
    assert resp.status_code == 409 and "power it off first" in resp.json()["error"]["message"]
    op = live.as_role("Operator")
    assert op.post(f"{API}/clusters/c1/vms", json={"name": "x"}).status_code == 403
    assert op.delete(f"{API}/vms/big").status_code == 403


def test_a_pinned_vm_starts_on_its_host(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    made = admin.post(f"{API}/clusters/c1/vms", json={"name": "pin", "host": "h1", "pinned": True})
    assert made.status_code == 201, made.text
    out = admin.post(f"{API}/vms/pin/start").json()
    assert out["host"] == "h1" and out["result"] == "started on h1"
    assert out["placement"] == "h1: the host asked for; it passes the filters; pinned to h1"
