"""A plan an engine was applying when it died: the next engine settles the step that was under
way by the facts and runs only what did not happen (test-driver fleets, cold moves).

The kill -9 of a real engine process with a standby on PostgreSQL and the libvirt lab is in
tests/lab/test_takeover_lab.py; these check the bookkeeping fast, in-process.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from ovtui.config import load_config
from ovtui.engine import Engine
from ovtui.store import Store
from ovtui.testdriver_fleet import write_fleet
from tests.policies import test_policy_engine
from tests.policies.test_policy_engine import (
    ADMIN,
    MakeEngine,
    _until,
    host_of,
    settle,
    two_hot_hosts,
)

engine_for = test_policy_engine.engine_for  # the fixture, shared


def _as_if_died_at_step_0(engine: Engine, doc: dict[str, Any]) -> None:
    """What a dead engine leaves: the plan running, step 0 claimed (write-ahead), nothing after."""
    plans = engine.policies.plans
    plans.set_run(doc["id"], {"only": None, "approved_by": "alice", "token": 7})
    step = doc["plan"]["steps"][0]
    plans.set_outcome(doc["id"], 0, {"status": "started", "detail": "migrating", "at": time.time(),
                                     "by": "policy:balance:c1", "token": 7})  # fmt: skip
    assert step["kind"] == "migrate"


def _moves_of(engine: Engine, vm: str) -> list[dict[str, Any]]:
    return [r for r in engine.migrations.tail(50) if r["vm"] == vm and r["result"] == "succeeded"]


async def test_a_started_step_found_done_is_not_run_again(engine_for: MakeEngine) -> None:
    engine = await engine_for(two_hot_hosts())
    await engine.policies.run_job("c1", "balance", "test")
    doc = engine.policies.plans.latest("c1")
    assert doc is not None and len(doc["plan"]["steps"]) == 2
    first, second = doc["plan"]["steps"]
    _as_if_died_at_step_0(engine, doc)
    # the dead engine's migration had completed; only its record of it was missing
    vm = engine.snapshot().vms_named(first["vm_name"])[0]
    await engine.migrate(ADMIN, vm, first["target"])
    await settle(engine)

    await engine.policies.resume_all()
    stored = engine.policies.plans.get(doc["id"])
    assert stored is not None and stored["status"] == "applied"
    done0, done1 = stored["outcomes"]
    assert done0["status"] == "done" and done0["detail"].startswith("found done after a takeover")
    assert done0["claimed_with"] == 7 and done1["status"] == "done"
    await settle(engine)
    assert host_of(engine, first["vm_name"]) == first["target"]
    assert host_of(engine, second["vm_name"]) == second["target"]
    assert len(_moves_of(engine, first["vm_name"])) == 1  # the dead engine's, not a second one
    assert [r["actor"] for r in _moves_of(engine, second["vm_name"])] == ["policy:balance:c1"]
    (resumed,) = [r for r in engine.audit_log.tail(20) if r["action"] == "policy.resume"]
    assert resumed["result"] == "ok" and "done before the takeover" in resumed["detail"]
    step2 = [r for r in engine.audit_log.tail(20) if r["action"] == "vm.migrate"][-1]
    assert step2["source"] == f"plan:{doc['id']} approved by alice"


async def test_a_restarted_engine_resumes_a_running_plan_by_itself(engine_for: MakeEngine) -> None:
    config = load_config(write_fleet(two_hot_hosts(), Path(tempfile.mkdtemp(prefix="ovt-"))))
    engine = await engine_for(config=config)
    await engine.policies.run_job("c1", "balance", "test")
    doc = engine.policies.plans.latest("c1")
    assert doc is not None
    first, second = doc["plan"]["steps"]
    _as_if_died_at_step_0(engine, doc)  # claimed, but the migration never happened
    await engine.stop()

    again = await engine_for(config=config)  # the test driver starts from its file: not moved
    plans = again.policies.plans

    def finished() -> bool:
        now = plans.get(doc["id"])
        return now is not None and now["status"] != "running"

    await _until(finished, "the plan resumed and finished")
    stored = plans.get(doc["id"])
    assert stored is not None and stored["status"] == "applied", stored
    assert [o["status"] for o in stored["outcomes"]] == ["done", "done"]
    await settle(again)
    assert host_of(again, first["vm_name"]) == first["target"]
    assert host_of(again, second["vm_name"]) == second["target"]
    assert len(_moves_of(again, first["vm_name"])) == 1
    assert len(_moves_of(again, second["vm_name"])) == 1
    (resumed,) = [r for r in again.audit_log.tail(30) if r["action"] == "policy.resume"]
    assert "had not happened" in resumed["detail"] and resumed["actor"] == "policy:balance:c1"


async def test_a_step_is_claimed_before_it_acts(engine_for: MakeEngine) -> None:
    engine = await engine_for(two_hot_hosts())
    await engine.policies.run_job("c1", "balance", "test")
    doc = engine.policies.plans.latest("c1")
    assert doc is not None
    seen: list[Any] = []
    real = engine.migrate

    async def spying(principal: Any, vm: Any, *args: Any, **kw: Any) -> dict[str, Any]:
        stored = engine.policies.plans.get(doc["id"])
        assert stored is not None
        index = [s["vm_name"] for s in stored["plan"]["steps"]].index(vm.name)
        seen.append((stored["status"], index, stored["outcomes"][index]["status"]))
        return await real(principal, vm, *args, **kw)

    engine.migrate = spying  # type: ignore[method-assign]
    out = await engine.policies.apply("c1", ADMIN)
    assert out["status"] == "applied"
    assert sorted(seen) == [("running", 0, "started"), ("running", 1, "started")]
    stored = engine.policies.plans.get(doc["id"])
    assert stored is not None and stored["run"]["approved_by"] == "alice"
    assert stored["outcomes"][0]["token"] is None  # no fencing token with the embedded store


async def test_a_migration_left_under_way_is_settled_not_repeated(
    engine_for: MakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ovtui.engine import inflight
    from ovtui.fleet import actions

    config = load_config(write_fleet(two_hot_hosts(), Path(tempfile.mkdtemp(prefix="ovt-"))))
    engine = await engine_for(config=config)
    vm = engine.snapshot().vms_named("a-0")[0]
    recorded: list[list[dict[str, Any]]] = []
    real = actions.migrate

    async def spying(fleet: Any, moving: Any, target: str) -> Any:
        recorded.append([dict(r) for r in engine.store.table(inflight.TABLE).all()])
        return await real(fleet, moving, target)

    monkeypatch.setattr(actions, "migrate", spying)
    await engine.migrate(ADMIN, vm, "h3")
    assert [(r["uuid"], r["source"], r["target"]) for r in recorded[0]] == [(vm.uuid, "h1", "h3")]
    assert engine.store.table(inflight.TABLE).all() == []  # removed once libvirt answered
    await engine.stop()
    # as if an engine had died in the middle of migrating a-1 (the test driver: still on h1)
    other = engine.snapshot().vms_named("a-1")[0]
    store = Store.open(config.engine.store_dir)
    try:
        store.table(inflight.TABLE).insert({"uuid": other.uuid, "vm": "a-1", "source": "h1",
                                            "target": "h4", "actor": "alice", "at": 0.0,
                                            "token": None})  # fmt: skip
    finally:
        store.close()
    again = await engine_for(config=config)
    await _until(lambda: again.inflight_settled.is_set(), "the leftover settled")
    assert again.store.table(inflight.TABLE).all() == []
    (settled,) = [r for r in again.audit_log.tail(20) if r["action"] == "vm.migration_settled"]
    assert settled["result"] == "ok" and settled["params"]["outcome"] == "stayed"
    assert settled["params"]["asked_by"] == "alice" and settled["actor"] == "system:engine"
    assert host_of(again, "a-1") == "h1"  # settled, never migrated by the new engine
    assert not [r for r in again.migrations.tail(20) if r["vm"] == "a-1"]
