"""VM power actions and migrations through the API, their refusals, and the audit trail of all."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.audit import verify_chain
from ovtui.testdriver_fleet import vm_uuid
from tests.conftest import API, LiveEngine, eventually, running_engine, standard_spec


def _vm(api: httpx.Client, name: str) -> dict[str, Any]:
    resp = api.get(f"{API}/vms/{vm_uuid(name)}")
    assert resp.status_code == 200, resp.text
    vm: dict[str, Any] = resp.json()
    return vm


def _settled(api: httpx.Client, name: str, **want: str) -> dict[str, Any]:
    """Waits until the VM shows `want` (e.g. host="h2", state="running").

    Until the hosts involved are re-read the inventory may lag; it never loses the VM (a
    moving VM is listed once, as migrating: tests/api/test_migration_visibility.py).
    """

    def check() -> dict[str, Any] | None:
        resp = api.get(f"{API}/vms/{vm_uuid(name)}")
        assert resp.status_code == 200, resp.text
        vm: dict[str, Any] = resp.json()
        return vm if all(vm[k] == v for k, v in want.items()) else None

    return eventually(check, what=f"{name} with {want}")


def _wait_state(api: httpx.Client, name: str, state: str) -> dict[str, Any]:
    return _settled(api, name, state=state)


def _error(resp: httpx.Response) -> str:
    message: str = resp.json()["error"]["message"]
    return message


def _new_audit(live: LiveEngine, since: int) -> list[dict[str, Any]]:
    return live.engine.audit_log.read(since_seq=since)


def _slow_host_reads(live: LiveEngine, seconds: float) -> None:
    """Every host reading now takes `seconds` longer, as on a real host with many VMs."""
    fleet = live.engine.fleet
    refresh = fleet.refresh

    async def slow(name: str) -> None:
        await asyncio.sleep(seconds)
        await refresh(name)

    fleet.refresh = slow  # type: ignore[method-assign]


# -- power actions ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("steps"),
    [
        [("poweroff", "done", "shutoff"), ("start", "done", "running")],
        [("suspend", "done", "paused"), ("resume", "done", "running")],
        [("reboot", "done", "running")],
        [("shutdown", "shut off", "shutoff")],  # waits for the guest to be off
    ],
    ids=["poweroff-start", "suspend-resume", "reboot", "shutdown"],
)
def test_power_action_changes_the_state(
    live: LiveEngine, steps: list[tuple[str, str, str]]
) -> None:
    api = live.as_role("Operator")
    uuid = vm_uuid("web-2")
    for action, result, state in steps:
        before = live.engine.audit_log.last_seq
        resp = api.post(f"{API}/vms/web-2/{action}")
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert {k: body[k] for k in ("vm", "uuid", "host", "action", "result")} == {
            "vm": "web-2",
            "uuid": uuid,
            "host": "h1",
            "action": action,
            "result": result,
        }
        assert 0 <= body["seconds"] < 30
        vm = _wait_state(api, "web-2", state)
        assert vm["host"] == "h1"
        (rec,) = _new_audit(live, before)
        assert (rec["actor"], rec["action"], rec["target"], rec["result"]) == (
            "operator",
            f"vm.{action}",
            "vm/web-2@h1",
            "ok",
        )
        assert rec["params"] == {"uuid": uuid} and rec["detail"] == result


def test_powered_off_vm_frees_its_host(live: LiveEngine) -> None:
    api = live.as_role("Operator")
    before = api.get(f"{API}/hosts/h1").json()
    assert api.post(f"{API}/vms/big-1/poweroff").status_code == 200
    after = eventually(
        lambda: (
            (h := api.get(f"{API}/hosts/h1").json())["vms_running"] < before["vms_running"] and h
        ),
        what="h1 to count one VM less",
    )
    assert after["memory_used_mib"] == before["memory_used_mib"] - 40960
    assert after["vcpus_committed"] == before["vcpus_committed"] - 4


def test_next_get_after_a_power_action_shows_the_new_state(live: LiveEngine) -> None:
    api = live.as_role("Operator")
    _slow_host_reads(live, 0.5)
    assert api.post(f"{API}/vms/web-2/poweroff").status_code == 200
    assert _vm(api, "web-2")["state"] == "shutoff"


def test_conflicting_action_names_vm_host_and_reason(live: LiveEngine) -> None:
    api = live.as_role("Operator")
    before = live.engine.audit_log.last_seq
    resp = api.post(f"{API}/vms/web-1/start")  # it is running
    assert resp.status_code >= 400
    message = _error(resp)
    assert message.startswith("start web-1 on h1 failed: ")
    assert "already running" in message
    assert resp.json()["error"]["vm"] == "web-1" and resp.json()["error"]["host"] == "h1"
    (rec,) = _new_audit(live, before)
    assert (rec["action"], rec["result"], rec["detail"]) == ("vm.start", "failed", message)
    # nothing changed
    assert _vm(api, "web-1")["state"] == "running"

    resp = api.post(f"{API}/vms/off-1/suspend")  # it is shut off
    assert resp.status_code >= 400
    assert _error(resp).startswith("suspend off-1 on h1 failed: ")
    assert "not running" in _error(resp)


@pytest.mark.parametrize(
    ("vm", "action"),
    [("web-1", "start"), ("web-1", "resume"), ("off-1", "shutdown"), ("off-1", "suspend")],
)
def test_conflicting_action_is_409(live: LiveEngine, vm: str, action: str) -> None:
    resp = live.as_role("Operator").post(f"{API}/vms/{vm}/{action}")
    assert resp.status_code == 409, resp.text


# -- migration --------------------------------------------------------------------------------
def test_migration_within_the_cluster_moves_the_vm_cold(live: LiveEngine) -> None:
    api = live.as_role("PowerUser")
    before = live.engine.audit_log.last_seq
    resp = api.post(f"{API}/vms/web-2/migrate", json={"target": "h2"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert {k: body[k] for k in ("vm", "uuid", "host", "source", "target", "mode", "result")} == {
        "vm": "web-2",
        "uuid": vm_uuid("web-2"),
        "host": "h2",
        "source": "h1",
        "target": "h2",
        "mode": "cold",
        "result": "moved (cold)",
    }
    assert "cold migration" in body["note"] and "restarted" in body["note"]

    # a cold migration passes through "defined on h2, shut off": wait for where it ends
    vm = _settled(api, "web-2", host="h2", state="running")
    assert vm["cluster"] == "c1"
    live.settle()
    assert "web-2" in {v["name"] for v in api.get(f"{API}/hosts/h2").json()["vms"]}
    assert "web-2" not in {v["name"] for v in api.get(f"{API}/hosts/h1").json()["vms"]}
    assert len(api.get(f"{API}/vms", params={"name": "web-2"}).json()) == 1  # not on both

    (history,) = api.get(f"{API}/migrations", params={"vm": "web-2"}).json()
    assert {k: history[k] for k in ("vm", "uuid", "source", "target", "actor", "result")} == {
        "vm": "web-2",
        "uuid": vm_uuid("web-2"),
        "source": "h1",
        "target": "h2",
        "actor": "poweruser",
        "result": "succeeded",
    }
    assert history["mode"] == "cold"
    events = api.get(f"{API}/events", params={"kind": "migration", "vm": "web-2"}).json()
    assert [(e["host"], e["what"]) for e in events] == [("h2", "cold migration from h1 done")]
    (rec,) = _new_audit(live, before)
    assert (rec["actor"], rec["action"], rec["target"], rec["result"]) == (
        "poweruser",
        "vm.migrate",
        "vm/web-2@h1",
        "ok",
    )
    assert rec["params"] == {"uuid": vm_uuid("web-2"), "to": "h2"}


def test_shut_off_vm_migrates_offline(live: LiveEngine) -> None:
    api = live.as_role("PowerUser")
    resp = api.post(f"{API}/vms/off-1/migrate", json={"target": "h2"})
    assert resp.status_code == 200, resp.text
    assert (resp.json()["mode"], resp.json()["result"]) == ("offline", "moved (offline)")
    assert "note" not in resp.json()
    vm = _settled(api, "off-1", host="h2")
    assert vm["state"] == "shutoff"


def test_next_get_after_a_migration_shows_the_vm_on_the_target(live: LiveEngine) -> None:
    api = live.as_role("PowerUser")
    _slow_host_reads(live, 0.5)
    assert api.post(f"{API}/vms/web-2/migrate", json={"target": "h2"}).status_code == 200
    assert _vm(api, "web-2")["host"] == "h2"


@pytest.fixture(scope="module")
def unchanged() -> Iterator[LiveEngine]:
    """Shared by the refused migrations: a refusal changes nothing but the logs."""
    with running_engine(standard_spec()) as running:
        yield running


def _refused(live: LiveEngine, vm: str, target: str) -> str:
    api = live.as_role("PowerUser")
    before = live.engine.audit_log.last_seq
    resp = api.post(f"{API}/vms/{vm}/migrate", json={"target": target})
    assert resp.status_code == 409, resp.text
    message = _error(resp)
    assert message.startswith(f"migrate {vm} refused: ")
    # recorded as failed everywhere, and the VM did not move
    (rec,) = _new_audit(live, before)
    assert (rec["action"], rec["result"], rec["detail"]) == ("vm.migrate", "failed", message)
    history = api.get(f"{API}/migrations", params={"vm": vm}).json()
    assert (history[-1]["result"], history[-1]["error"]) == ("failed", message)
    events = api.get(f"{API}/events", params={"kind": "migration", "vm": vm}).json()
    assert events[-1]["what"] == f"migration to {target} failed"
    assert events[-1]["detail"] == message
    live.settle()
    assert _vm(api, vm)["host"] == "h1"
    return message


def test_migration_across_clusters_is_refused_naming_both(unchanged: LiveEngine) -> None:
    message = _refused(unchanged, "web-2", "h3")
    assert "web-2 is in cluster c1 and h3 in c2" in message
    assert "pick a host in c1" in message


def test_migration_to_a_full_host_gives_the_memory_numbers(unchanged: LiveEngine) -> None:
    # h2: 32768 MiB, 8192 used, no over-commit in c1 -> 24576 left; big-1 needs 40960.
    message = _refused(unchanged, "big-1", "h2")
    assert "big-1 needs 40960 MiB but h2 has 24576 MiB left" in message
    assert "100% memory over-commit" in message


def test_pinned_vm_is_not_migrated(unchanged: LiveEngine) -> None:
    message = _refused(unchanged, "pin-1", "h2")
    assert "pin-1 is pinned to h1" in message and "unpin" in message


def test_non_migratable_vm_is_not_migrated(unchanged: LiveEngine) -> None:
    assert "nomig-1 is marked non-migratable" in _refused(unchanged, "nomig-1", "h2")


def test_migration_to_an_unknown_host_lists_the_cluster_hosts(unchanged: LiveEngine) -> None:
    assert "no host named 'h9' (hosts in c1: h1, h2)" in _refused(unchanged, "web-2", "h9")


def test_migration_to_its_own_host_is_refused(unchanged: LiveEngine) -> None:
    assert "web-2 already runs on h1" in _refused(unchanged, "web-2", "h1")


def test_migration_body_is_validated(unchanged: LiveEngine) -> None:
    api = unchanged.as_role("PowerUser")
    for body in ({}, {"target": ""}, {"to": "h2"}):
        resp = api.post(f"{API}/vms/web-2/migrate", json=body)
        assert resp.status_code == 422
        assert "body.target" in _error(resp)


# -- the audit trail ---------------------------------------------------------------------------
def _mixed_actions(live: LiveEngine) -> None:
    operator = live.as_role("Operator")
    assert operator.post(f"{API}/vms/web-2/poweroff").status_code == 200  # ok
    assert operator.post(f"{API}/vms/web-1/start").status_code >= 400  # failed
    assert operator.post(f"{API}/vms/web-1/migrate", json={"target": "h2"}).status_code == 403
    viewer = live.as_role("ReadOnly")
    assert viewer.post(f"{API}/vms/web-1/poweroff").status_code == 403  # denied
    token = live.login("clusteradmin")
    assert live.client(token).post(f"{API}/hosts/h2/maintenance", json={}).status_code in (
        200,
        409,
    )
    assert live.client(token).request("DELETE", f"{API}/sessions/current").status_code == 200


def test_every_outcome_lands_in_a_verifiable_audit_trail(live: LiveEngine) -> None:
    _mixed_actions(live)
    records = live.audit_records()
    assert verify_chain(records) == []
    seen = {(r["actor"], r["action"], r["result"]) for r in records}
    assert {
        ("operator", "login", "ok"),
        ("operator", "vm.poweroff", "ok"),
        ("operator", "vm.start", "failed"),
        ("operator", "vm.migrate", "denied"),
        ("viewer", "vm.power", "denied"),
        ("clusteradmin", "logout", "ok"),
    } <= seen
    assert any(r["actor"] == "clusteradmin" and r["action"] == "host.maintenance" for r in records)
    # the API serves the same records the file holds
    auditor = live.as_role("Auditor")
    served = auditor.get(f"{API}/audit", params={"limit": 10000}).json()
    assert served[: len(records)] == records
    denied = auditor.get(f"{API}/audit", params={"actor": "viewer", "action": "vm.power"}).json()
    assert [(r["target"], r["result"]) for r in denied] == [("vm/web-1", "denied")]


def test_passwords_and_tokens_never_reach_the_store(live: LiveEngine) -> None:
    token = live.login("operator")
    assert (
        live.client()
        .post(f"{API}/sessions", json={"username": "operator", "password": "wrong-Pa55"})
        .status_code
        == 401
    )
    _mixed_actions(live)
    for path in live.store_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"wrong-Pa55" not in data and b'"demo"' not in data, path
            assert token.encode() not in data, path


def test_an_edited_audit_record_is_detected(live: LiveEngine) -> None:
    _mixed_actions(live)
    records = live.audit_records()
    assert verify_chain(records) == []
    i = next(i for i, r in enumerate(records) if r["result"] == "denied" and r["actor"] == "viewer")
    lines = live.audit_path.read_text().splitlines(keepends=True)
    lines[i] = lines[i].replace('"result":"denied"', '"result":"ok"')
    assert lines[i] != live.audit_path.read_text().splitlines(keepends=True)[i]
    live.audit_path.write_text("".join(lines))
    problems = verify_chain(live.audit_records())
    assert problems, "an edited record went unnoticed"
    seq = records[i]["seq"]
    assert any(p.startswith(f"record {i} (seq {seq}): content does not match") for p in problems)


def test_a_removed_audit_record_is_detected(live: LiveEngine) -> None:
    _mixed_actions(live)
    records = live.audit_records()
    del records[2]
    problems = verify_chain(records)
    assert problems and all(p.startswith("record 2 ") for p in problems), problems
    assert any("chain broken" in p for p in problems)


def test_the_chain_continues_across_an_engine_restart(live: LiveEngine, start_engine) -> None:
    _mixed_actions(live)
    last = live.audit_records()[-1]
    live.stop()
    again = start_engine(config=live.config)
    assert again.as_role("Operator").post(f"{API}/vms/web-1/poweroff").status_code == 200
    records = again.audit_records()
    assert verify_chain(records) == []
    following = records[records.index(last) + 1]
    assert following["prev"] == last["hash"] and following["seq"] == last["seq"] + 1


def _open_files_under(root: Path) -> list[str]:
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith(str(root)):
            found.append(target)
    return sorted(found)


def test_an_engine_releases_its_files_when_it_stops(start_engine) -> None:
    live = start_engine()
    root = live.store_dir.parent
    assert _open_files_under(root)  # sanity: the running engine holds its files
    live.stop(close_logs=False)  # as `ovtui engine` stops, without the harness's extra cleanup
    assert _open_files_under(root) == []
