"""GET /api/v1/vms?since=: only what changed, exact for each caller's grants.

The engine is real (its socket, sessions, RBAC); the snapshots it publishes are replaced for a
moment by ones derived from its own, so that a VM can change, appear and disappear on cue.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.local_users import LocalUser, write_local_users
from auth.passwords import hash_password
from ovtui.api import vm_changes
from ovtui.config.schema import GrantConfig
from ovtui.model import VM, Snapshot
from ovtui.testdriver_fleet import ClusterSpec, DatacenterSpec, FleetSpec, HostSpec, VmSpec
from tests.conftest import API, PASSWORD, ROLE_USERS, LiveEngine, engine_on, fleet_config

SKY = "Skylake-Server"
READER = "c1-reader"  # ReadOnly on cluster c1 only


def _spec() -> FleetSpec:
    return FleetSpec(
        (DatacenterSpec("dc1"),),
        (ClusterSpec("c1", "dc1", SKY), ClusterSpec("c2", "dc1", SKY)),
        (
            HostSpec("h1", "c1", 8, 16384, SKY, 2400,
                     (VmSpec("a-1", 1, 512, "web"), VmSpec("a-2", 1, 512, "web"))),
            HostSpec("h2", "c2", 8, 16384, SKY, 2400,
                     (VmSpec("b-1", 1, 512, "web"), VmSpec("b-2", 1, 512, "web"))),
        ),
    )  # fmt: skip


def _prepare(root: Path) -> None:
    users = [LocalUser(user, hash_password(PASSWORD, n=2**12), frozenset({role}))
             for role, user in ROLE_USERS.items()]  # fmt: skip
    users.append(LocalUser(READER, users[0].password_hash, frozenset()))
    write_local_users(root / "local-users.toml", users)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveEngine]:
    config = fleet_config(_spec(), prepare=_prepare)
    grant = GrantConfig.model_validate(
        {"user": READER, "role": "ReadOnly", "scope": "cluster", "object": "c1"}
    )
    auth = config.auth.model_copy(update={"grants": [grant]})
    config = config.model_copy(update={"auth": auth})
    with engine_on(config) as engine:
        yield engine


@pytest.fixture
def publish(live: LiveEngine, monkeypatch: pytest.MonkeyPatch) -> Any:
    """publish(vms): the engine's snapshot from now on has these VMs (hosts etc. as read)."""
    base = live.engine.snapshot()

    def set_vms(vms: tuple[VM, ...]) -> Snapshot:
        snap = Snapshot(base.taken_at, base.datacenters, base.clusters, base.hosts, vms)
        monkeypatch.setattr(live.engine.fleet, "snapshot", lambda: snap)
        return snap

    set_vms(base.vms)
    return set_vms


def _get(api: httpx.Client, since: str, **params: str) -> dict[str, Any]:
    resp = api.get(f"{API}/vms", params={"since": since, **params})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _named(vms: tuple[VM, ...], name: str) -> VM:
    return next(v for v in vms if v.name == name)


def test_changes_added_and_removed_vms_come_alone(live: LiveEngine, publish: Any) -> None:
    api = live.as_role("SuperUser")
    vms = live.engine.snapshot().vms
    first = _get(api, "start")
    assert first["full"] is True and first["removed"] == []
    assert sorted(v["name"] for v in first["vms"]) == ["a-1", "a-2", "b-1", "b-2"]
    again = _get(api, first["revision"])
    assert again == {"revision": again["revision"], "full": False, "vms": [], "removed": []}

    a1, b2 = _named(vms, "a-1"), _named(vms, "b-2")
    moved = dataclasses.replace(a1, cpu_usage=0.5, memory_current_mib=300)
    added = dataclasses.replace(moved, uuid="00000000-0000-0000-0000-00000000abcd", name="new-1")
    publish((*(moved if v is a1 else v for v in vms if v is not b2), added))
    delta = _get(api, again["revision"])
    assert delta["full"] is False
    assert {v["name"]: v["cpu_usage"] for v in delta["vms"]} == {"a-1": 0.5, "new-1": 0.5}
    assert delta["removed"] == [b2.uuid]
    assert _get(api, delta["revision"])["vms"] == []  # seen: not sent again
    # Listed from the start revision, everything since then comes in one answer.
    assert {v["name"] for v in _get(api, again["revision"])["vms"]} == {"a-1", "new-1"}


def test_a_vm_the_caller_may_not_read_is_never_revealed(live: LiveEngine, publish: Any) -> None:
    reader = live.as_user(READER)
    vms = live.engine.snapshot().vms
    first = _get(reader, "start")
    assert sorted(v["name"] for v in first["vms"]) == ["a-1", "a-2"]
    a1, a2, b1, b2 = (_named(vms, n) for n in ("a-1", "a-2", "b-1", "b-2"))
    b1_busy = dataclasses.replace(b1, cpu_usage=0.9)
    publish((a1, b1_busy))  # a-2 (c1) and b-2 (c2) removed, b-1 (c2) changed
    delta = _get(reader, first["revision"])
    assert delta["vms"] == [] and delta["removed"] == [a2.uuid]
    # a-1 moves to cluster c2, out of the reader's sight: gone for them, named to nobody else.
    a1_away = dataclasses.replace(a1, host="h2", cluster="c2")
    publish((a1_away, b1_busy))
    assert _get(reader, delta["revision"])["removed"] == [a1.uuid]
    assert b2.uuid not in str(_get(reader, first["revision"]))


def test_a_revision_the_engine_cannot_answer_from_gives_the_full_list(
    live: LiveEngine, publish: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, reader = live.as_role("SuperUser"), live.as_user(READER)
    vms = live.engine.snapshot().vms
    revision = _get(admin, "start")["revision"]
    epoch, counter, digest = revision.split(".")
    restarted = _get(admin, f"0{epoch[1:]}.{counter}.{digest}")  # an earlier engine's
    assert restarted["full"] is True and len(restarted["vms"]) == 4
    other_grants = _get(reader, revision)  # the admin's grants, not the reader's
    assert other_grants["full"] is True and len(other_grants["vms"]) == 2
    monkeypatch.setattr(vm_changes, "HISTORY", 2)
    for usage in (0.1, 0.2, 0.3):  # three revisions later, past a history of two
        publish(tuple(dataclasses.replace(v, cpu_usage=usage) for v in vms))
        _get(admin, "start")
    too_old = _get(admin, revision)
    assert too_old["full"] is True and len(too_old["vms"]) == 4


@pytest.mark.parametrize(
    ("since", "params", "says"),
    [
        ("yesterday", {}, "is not a revision"),
        ("", {}, "is not a revision"),
        (None, {"cluster": "c1"}, "cannot be combined with cluster"),
        (None, {"name": "a", "host": "h1"}, "cannot be combined with host, name"),
    ],
)
def test_a_bad_revision_or_since_with_filters_is_422_saying_what_to_do(
    live: LiveEngine, since: str | None, params: dict[str, str], says: str
) -> None:
    api = live.as_role("SuperUser")
    revision = since if since is not None else _get(api, "start")["revision"]
    resp = api.get(f"{API}/vms", params={"since": revision, **params})
    assert resp.status_code == 422
    message = resp.json()["error"]["message"]
    assert says in message and ("since=start" in message or "drop since" in message)


def test_a_revision_ahead_of_the_engine_is_422(live: LiveEngine) -> None:
    api = live.as_role("SuperUser")
    epoch, counter, digest = _get(api, "start")["revision"].split(".")
    resp = api.get(f"{API}/vms", params={"since": f"{epoch}.{int(counter) + 5}.{digest}"})
    assert resp.status_code == 422 and "ahead of" in resp.json()["error"]["message"]


def test_openapi_documents_the_changes_answer(live: LiveEngine) -> None:
    doc = live.client().get("/openapi.json").json()
    op = doc["paths"][f"{API}/vms"]["get"]
    assert "since" in {p["name"] for p in op["parameters"]}
    body = op["responses"]["200"]["content"]["application/json"]["schema"]
    refs = str(body)
    assert "VmChangesOut" in refs and "VM" in refs
    changes = doc["components"]["schemas"]["VmChangesOut"]
    assert set(changes["required"]) == {"revision", "full", "vms", "removed"}


def test_precision_percent_sends_a_vm_once_its_whole_percent_moved(
    live: LiveEngine, publish: Any
) -> None:
    admin, reader = live.as_role("SuperUser"), live.as_user(READER)
    vms = live.engine.snapshot().vms
    publish(tuple(dataclasses.replace(v, cpu_usage=0.421) for v in vms))
    first, mine = (
        _get(admin, "start", precision="percent"),
        _get(reader, "start", precision="percent"),
    )
    assert first["full"] is True and len(first["vms"]) == 4 and len(mine["vms"]) == 2
    nudged = tuple(dataclasses.replace(v, cpu_usage=0.424) for v in vms)
    publish(nudged)
    assert _get(admin, first["revision"], precision="percent")["vms"] == []
    assert _get(admin, first["revision"])["full"] is True  # another precision's revision
    exact = _get(admin, "start")["revision"]  # exact clients still get every move
    publish(tuple(dataclasses.replace(v, cpu_usage=0.423) for v in vms))
    assert len(_get(admin, exact)["vms"]) == 4
    # a-1 (c1) and b-1 (c2) move to 43%: sent, exact, to those who may read them only.
    publish(
        tuple(
            dataclasses.replace(v, cpu_usage=0.431) if v.name in ("a-1", "b-1") else v
            for v in nudged
        )
    )
    delta = _get(admin, first["revision"], precision="percent")
    assert {v["name"]: v["cpu_usage"] for v in delta["vms"]} == {"a-1": 0.431, "b-1": 0.431}
    assert [v["name"] for v in _get(reader, mine["revision"], precision="percent")["vms"]] == [
        "a-1"
    ]


def test_precision_without_since_or_unknown_is_422(live: LiveEngine) -> None:
    api = live.as_role("SuperUser")
    resp = api.get(f"{API}/vms", params={"precision": "percent"})
    assert resp.status_code == 422 and "since=start" in resp.json()["error"]["message"]
    assert api.get(f"{API}/vms", params={"since": "start", "precision": "tenth"}).status_code == 422
    doc = live.client().get("/openapi.json").json()
    params = {p["name"]: p for p in doc["paths"][f"{API}/vms"]["get"]["parameters"]}
    assert "percent" in str(params["precision"]["schema"]) and params["precision"]["description"]
