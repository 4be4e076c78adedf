"""The crash test of the TinyDB store, on PostgreSQL: SIGKILL a busy writer at random instants;
every time, the next writer finds whole, consistent state and an audit chain that verifies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auth.audit import verify_chain
from ovtui.engine.audit_open import open_audit_on
from ovtui.store.pg_database import PgDatabase
from ovtui.store.state import open_postgres

from .pg_kill_child import VM

ROUNDS = 15
SEED = int(os.environ.get("OVTUI_KILL_SEED", "20240611"))
pytestmark = pytest.mark.slow


def _check(dsn: str, context: str) -> int:
    db = PgDatabase(dsn, holder="checker")
    deadline = time.monotonic() + 20
    while not db.try_lead():
        assert time.monotonic() < deadline, f"{context}: the lock was never released"
        time.sleep(0.02)
    state = open_postgres(db)
    try:
        _trail, problems = open_audit_on(state.audit, state.anchor, state.store)
        assert problems == [], context
        counter = int(state.store.get_setting("counter", 0))
        vm = state.store.vm_settings(VM)
        assert vm.get("generation", 0) == counter, context  # one transaction: both or neither
        events = [r["i"] for r in state.events]
        assert events == sorted(set(events)), context  # none twice, in order
        assert not events or events[-1] in (counter - 1, counter), context
        records = list(state.audit)
        assert verify_chain(records) == [], context
        assert [r["seq"] for r in records] == list(range(1, len(records) + 1)), context
        counted = [int(r["target"]) for r in records if r["action"] == "count"]
        assert counted == sorted(set(counted)), context
        return counter
    finally:
        state.close()


def test_state_on_postgres_survives_sigkill_at_random_instants(pg_dsn: str) -> None:
    rng = random.Random(SEED)
    child = Path(__file__).with_name("pg_kill_child.py")
    counter = 0
    for round_no in range(ROUNDS):
        proc = subprocess.Popen([sys.executable, str(child), pg_dsn], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready.strip() == "ready", proc.communicate()[1]
        time.sleep(rng.uniform(0, 0.3))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, proc.communicate()[1]
        previous, counter = counter, _check(pg_dsn, f"round {round_no} (seed {SEED})")
        assert counter >= previous
    assert counter > 0, "the writer never completed a cycle"
