"""GET /api/v1/storage: every domain realised on its hosts, read from the engine's cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ovtui.storage.pool_xml import pool_name
from tests.conftest import API, LiveEngine
from tests.storage.helpers import add_pool, all_read, storage_spec, wait_storage, with_domains

GIB = 1 << 30


def test_domains_are_realised_on_every_host_that_must_see_them(
    start_engine: Callable[..., LiveEngine],
) -> None:
    config = with_domains(
        storage_spec(),
        [
            {"name": "shared", "type": "shared_dir", "path": "/srv/vm"},
            {"name": "loc", "type": "local", "path": "/var/lib/vm", "hosts": ["h2"]},
        ],
    )
    live = start_engine(config=config)
    admin = live.as_role("SuperUser")
    domains = wait_storage(admin, all_read)
    by_name = {d["name"]: d for d in domains}
    shared, loc = by_name["shared"], by_name["loc"]
    assert [h["host"] for h in shared["hosts"]] == ["h1", "h2"]
    assert [h["host"] for h in loc["hosts"]] == ["h2"]
    assert {h["state"] for h in shared["hosts"]} == {"active"}
    # the test driver's pools report 100 GiB free
    assert shared["capacity_bytes"] == 100 * GIB and shared["available_bytes"] == 100 * GIB
    assert (shared["state"], shared["pool"], shared["pool_type"]) == (
        "active",
        "ovtui-shared",
        "dir",
    )
    assert loc["params"] == {"path": "/var/lib/vm"} and not loc["shared"]
    # the pools exist on the hosts, under the domain's pool name, and are active
    conn = live.engine.fleet.links["h1"].conn
    assert conn is not None
    assert conn.storagePoolLookupByName(pool_name("shared")).isActive()
    one = admin.get(f"{API}/storage/loc").json()
    assert one["hosts"][0]["state"] == "active"
    missing = admin.get(f"{API}/storage/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == (
        "no storage domain named 'nope' (domains: shared, loc)"
    )


def test_a_host_that_cannot_activate_a_shared_domain_is_non_operational(
    start_engine: Callable[..., LiveEngine],
) -> None:
    def squat(root: Path) -> None:
        add_pool(next(root.rglob("h2.xml")), "squatter", "/srv/vm")

    config = with_domains(
        storage_spec(), [{"name": "shared", "type": "shared_dir", "path": "/srv/vm"}], squat
    )
    live = start_engine(config=config)
    admin = live.as_role("SuperUser")
    (shared,) = wait_storage(admin, all_read)
    h1, h2 = shared["hosts"]
    assert h1["state"] == "active"
    assert h2["state"] == "error" and "squatter" in h2["error"], h2
    assert shared["state"] == "degraded"
    hosts = {h["name"]: h for h in admin.get(f"{API}/hosts").json()}
    assert hosts["h1"]["state"] == "up"
    assert hosts["h2"]["state"] == "non_operational"
    assert hosts["h2"]["state_reason"].startswith("cannot activate storage domain shared: ")
    # storage.manage (SuperUser) may ask for it again now; it is audited
    again = admin.post(f"{API}/storage/shared/refresh")
    assert again.status_code == 200, again.text
    assert again.json()["result"] == "1 of 2 hosts active"
    refused = live.as_role("ClusterAdmin").post(f"{API}/storage/shared/refresh")
    assert refused.status_code == 403
    audited = [(r["action"], r["result"]) for r in live.engine.audit_log.read(since_seq=0)]
    assert ("storage.refresh", "ok") in audited and ("storage.manage", "denied") in audited
