"""Two `ovtui engine` processes on one PostgreSQL and one libvirt lab: the active one is killed
with SIGKILL (by PID) in the middle of applying a plan of live migrations, or while an HA
restart is pending; the standby takes over and finishes. Checked by the facts: libvirt's own
lifecycle events (each VM resumed after an incoming migration exactly once, on the host the plan
said), where each QEMU runs, and the audit trail in the database (verifying, nothing twice).

The engine is killed when the store shows what is under way (a step claimed, a recovery
recorded), never after a fixed delay; every wait is on a fact, with generous timeouts.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import libvirt
import psycopg
import pytest

from auth.audit import verify_chain
from auth.audit_anchor import anchor_problems
from ovtui.fleet.event_loop import ensure_event_loop
from ovtui.jobs.plan_store import PlanStore
from ovtui.lab import Lab
from ovtui.store.pg_anchor import PgAnchor
from ovtui.store.pg_database import PgDatabase
from ovtui.store.pg_log import PgLog
from ovtui.store.state import open_postgres
from policies.plan import Plan, Step, StepKind
from tests.deploy.engines import EngineProcess, lab_engine_config
from tests.lab.conftest import lab_up
from tests.lab.hatools import Sampler, qemus_by_guest, until

pytestmark = pytest.mark.slow
FACTS = 240.0  # whatever the load: a takeover, three live migrations, a restart


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    yield from lab_up(hosts=2, guests=3)


class Events:
    """libvirt lifecycle events of every lab host, as (host, vm, event, detail), in this process."""

    def __init__(self, lab: Lab) -> None:
        ensure_event_loop()
        self.seen: list[tuple[str, str, int, int]] = []
        self._lock = threading.Lock()
        self._conns = []
        for host in lab.host_names():
            conn = lab.connect(host)

            def record(_c: Any, dom: Any, event: int, detail: int, _o: Any, h: str = host) -> None:
                with self._lock:
                    self.seen.append((h, dom.name(), event, detail))

            conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, record, None)
            self._conns.append(conn)

    def of(self, vm: str, event: int, detail: int) -> list[str]:
        with self._lock:
            return [h for h, n, e, d in self.seen if n == vm and e == event and d == detail]

    def close(self) -> None:
        for conn in self._conns:
            conn.close()


def _rows(dsn: str, sql: str, *params: Any) -> list[Any]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return [r[0] for r in conn.execute(sql, params).fetchall()]


def _plan_doc(dsn: str, plan_id: str) -> dict[str, Any]:
    (doc,) = _rows(dsn, "SELECT doc FROM ovtui_docs WHERE tbl = 'policy_plans' AND doc->>'id' = %s",
                   plan_id)  # fmt: skip
    return dict(doc)


def _ha_state(dsn: str) -> dict[str, Any]:
    found = _rows(dsn, "SELECT doc FROM ovtui_docs WHERE tbl = 'settings' "
                       "AND doc->>'key' = 'ha_state'")  # fmt: skip
    return dict(found[0]["value"] or {}) if found else {}


def _audit(dsn: str) -> tuple[list[dict[str, Any]], list[str]]:
    db = PgDatabase(dsn, holder="checker")
    try:
        records = list(PgLog(db, "audit"))
        anchor = PgAnchor(db, "audit").read()
        assert anchor is not None
        return records, verify_chain(records) + anchor_problems(records, anchor)
    finally:
        db.close()


def _seed_plan(dsn: str, moves: list[tuple[str, str, str, str]]) -> str:
    """A stored plan of live migrations (vm, uuid, from, to), as a planner would store it."""
    db = PgDatabase(dsn, holder="test-seeder")
    assert db.try_lead()
    state = open_postgres(db)
    try:
        steps = tuple(Step(StepKind.MIGRATE, src, "takeover test", uuid, vm, dst, 128)
                      for vm, uuid, src, dst in moves)  # fmt: skip
        plan = Plan("lab", "balance", "evenly_distributed", time.time(),
                    f"lab: {len(steps)} migrations (takeover test)", steps)  # fmt: skip
        return str(PlanStore(state.store).save(plan, mode="recommend", trigger="test")["id"])
    finally:
        state.close()  # ends the session: its lead goes with it


def _uuid(lab: Lab, vm: str) -> str:
    conn = lab.connect(lab.host_of(vm) or "h1")
    try:
        return str(conn.lookupByName(vm).UUIDString())
    finally:
        conn.close()


def _where(lab: Lab) -> dict[str, list[tuple[str, bool]]]:
    """vm -> [(host, active)] for every definition on every lab host."""
    found: dict[str, list[tuple[str, bool]]] = {}
    for host in lab.host_names():
        conn = lab.connect(host)
        try:
            for dom in conn.listAllDomains():
                found.setdefault(dom.name(), []).append((host, bool(dom.isActive())))
        finally:
            conn.close()
    return found


def _engines(lab: Lab, dsn: str, root: Path) -> tuple[EngineProcess, EngineProcess, str]:
    a = EngineProcess(lab_engine_config(lab.config_path, root / "a", dsn))
    a.wait_status("ok", timeout=90)
    b = EngineProcess(lab_engine_config(lab.config_path, root / "b", dsn))
    b.wait_status("standby", timeout=90)
    token = a.login()

    # Up, measured (a migration step needs the target's CPU reading: two polls) and described
    # (no VM config still being read): what the plan's premises are checked against.
    def ready() -> bool:
        hosts = c.get("/api/v1/hosts").json()
        return all(
            h["state"] == "up" and h["cpu_usage"] is not None and not h["vms_config_pending"]
            for h in hosts
        )

    with a.client(token) as c:
        until(ready, 90, "every lab host up and measured for the active engine")
    return a, b, token


def test_killed_in_the_middle_of_a_plan_the_standby_finishes_it_once(
    lab: Lab, pg_dsn: str, tmp_path: Path
) -> None:
    other = {"h1": "h2", "h2": "h1"}
    start = {vm: lab.host_of(vm) or "" for vm in ("vm1", "vm2", "vm3")}
    moves = [(vm, _uuid(lab, vm), start[vm], other[start[vm]]) for vm in ("vm1", "vm3", "vm2")]
    plan_id = _seed_plan(pg_dsn, moves)
    events = Events(lab)
    a, b, token = _engines(lab, pg_dsn, tmp_path)
    (a_token,) = _rows(pg_dsn, "SELECT token FROM ovtui_leader")
    try:
        answers: list[str] = []

        def apply() -> None:
            try:
                with a.client(token) as c:
                    r = c.post("/api/v1/policies/lab/apply", json={"plan": plan_id}, timeout=600)
                    answers.append(f"{r.status_code} {r.text}")
            except httpx.HTTPError:
                pass  # the engine is killed under it

        applying = threading.Thread(target=apply, daemon=True)
        applying.start()
        second = moves[1]

        def step_2_claimed() -> bool:
            assert not answers, f"apply answered before step 2 was claimed: {answers}"
            return (_plan_doc(pg_dsn, plan_id)["outcomes"][1] or {}).get("status") == "started"

        until(step_2_claimed, FACTS, "step 2 claimed by the active engine", every=0.01)
        # kill while its migration runs: once the incoming VM started on the target, if it does
        # in time (else the kill lands between the claim and the migration: also a case)
        deadline = time.monotonic() + 10
        started = (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_MIGRATED)
        while time.monotonic() < deadline and not events.of(second[0], *started):
            time.sleep(0.002)
        a.kill()  # SIGKILL, by PID
        in_flight = events.of(second[0], *started)
        print("incoming migration of", second[0], "seen at the kill:", in_flight)
        applying.join(30)

        b.wait_status("ok", timeout=120)

        def finished() -> dict[str, Any] | None:
            d = _plan_doc(pg_dsn, plan_id)
            return d if d["status"] not in ("running", "recommended") else None

        doc = until(finished, FACTS, "the plan finished by the new leader")
        assert doc is not None
        assert doc["status"] == "applied", json.dumps(doc["outcomes"], indent=1)
        assert [o["status"] for o in doc["outcomes"]] == ["done", "done", "done"]
        tokens = [o["token"] for o in doc["outcomes"]]
        assert tokens[2] is not None and tokens[0] is not None and tokens[2] > tokens[0]
        assert tokens[0] == a_token  # step 1 was done and recorded by the engine killed

        # the facts: every VM where the plan said, defined there only, moved exactly once
        def settled() -> bool:
            where = _where(lab)
            return all(where.get(vm) == [(dst, True)] for vm, _u, _s, dst in moves)

        until(settled, 60, f"each VM running where the plan said, defined only there: {moves}")
        for vm, _vm_uuid, src, dst in moves:
            # RESUMED(migrated) on the target: an incoming migration that completed; on the
            # source it is a cancelled one (the VM runs on where it was)
            resumed = events.of(vm, libvirt.VIR_DOMAIN_EVENT_RESUMED,
                                libvirt.VIR_DOMAIN_EVENT_RESUMED_MIGRATED)  # fmt: skip
            assert resumed.count(dst) == 1 and set(resumed) <= {src, dst}, (vm, events.seen)
            assert len(qemus_by_guest(lab)[vm]) == 1

        records, problems = _audit(pg_dsn)
        assert problems == []
        resumes = [r for r in records if r["action"] == "policy.resume"]
        assert [(r["actor"], r["result"]) for r in resumes] == [("policy:balance:lab", "ok")]
        print("resumed:", resumes[0]["detail"])
        migrated = [r for r in records if r["action"] == "vm.migrate" and r["result"] == "ok"]
        names = [r["target"].split("/", 1)[1].split("@")[0] for r in migrated]
        assert sorted(set(names)) == sorted(names)  # no VM's migration recorded twice
        assert "vm2" in names  # the step after the kill: the new leader's
        assert not any(r["action"] == "audit.damaged" for r in records)
        settled = [r for r in records if r["action"] == "vm.migration_settled"]
        if in_flight:  # the dead engine's record of the migration it was driving, settled once
            assert [(r["target"], r["result"]) for r in settled] == [(f"vm/vm3@{second[2]}", "ok")]
        assert len(settled) <= 1
    finally:
        a.kill()
        b.stop()
        events.close()


def test_killed_with_an_ha_restart_pending_the_vm_runs_exactly_once(
    lab: Lab, pg_dsn: str, tmp_path: Path
) -> None:
    events = Events(lab)
    a, b, token = _engines(lab, pg_dsn, tmp_path)
    try:
        with a.client(token) as c:
            resp = c.put("/api/v1/vms/vm2/ha", json={"ha": True, "priority": 50})
            assert resp.status_code == 200, resp.text
        uuid = _uuid(lab, "vm2")
        host = lab.host_of("vm2") or ""
        (pid,) = lab.qemu_pids(host, "vm2")
        with Sampler(lab) as sampler:
            os.kill(pid, signal.SIGKILL)  # QEMU dies under libvirt: a crash
            rec = until(lambda: _ha_state(pg_dsn).get("recoveries", {}).get(uuid), 60,
                        "the crash recorded as a recovery", every=0.005)  # fmt: skip
            a.kill()  # SIGKILL, by PID, with the restart pending (or starting)
            print("recovery at the kill:", rec["stage"], rec.get("target"))
            b.wait_status("ok", timeout=120)
            until(lambda: not _ha_state(pg_dsn).get("recoveries"), FACTS,
                  "the recovery finished by the new leader")  # fmt: skip
            until(lambda: [h for h, up in _where(lab).get("vm2", []) if up], 60, "vm2 running")
        running = qemus_by_guest(lab)["vm2"]
        assert len(running) == 1 and sampler.samples > 5 and not sampler.twice, sampler.twice
        assert len(lab.qemu_pids(running[0], "vm2")) == 1
        booted = events.of("vm2", libvirt.VIR_DOMAIN_EVENT_STARTED,
                           libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED)  # fmt: skip
        assert booted == running, (booted, events.seen)  # started once, where it runs
        records, problems = _audit(pg_dsn)
        assert problems == []
        restarts = [r for r in records if r["action"] == "vm.ha_restart" and r["result"] == "ok"]
        assert len(restarts) <= 1
    finally:
        a.kill()
        b.stop()
        events.close()
