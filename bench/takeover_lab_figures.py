"""Takeover to resumed: the active engine SIGKILLed while it applies a plan of live migrations on
the libvirt lab; how long until the standby leads, until it has settled the step that was under
way (its first record of the plan's stage, with its own fencing token), and until the plan is
applied. Median over ROUNDS rounds, each with a fresh database and fresh engines.

    python -m bench.takeover_lab_figures      (root: the lab's namespaces, postgres as its user)

Engines are real `ovtui engine` processes (standby_poll_seconds = POLL); the lab has two hosts and
two idle guests; each round's plan moves both guests to the other host, and the kill comes when
the first step is claimed. Floors: what the README promises, checked here, never in tests.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import print_table, save
from ovtui.lab import Lab
from ovtui.lab.conn import quiet_libvirt
from tests.deploy.engines import EngineProcess, lab_engine_config
from tests.deploy.pg_server import PgServer
from tests.deploy.test_takeover_lab import _plan_doc, _rows, _seed_plan, _uuid
from tests.lab.hatools import until

ROUNDS = 5
POLL = 1.0  # engine.standby_poll_seconds, the default
FLOORS = {"takeover_median_s": 10.0, "takeover_to_resumed_median_s": 30.0}


def one_round(lab: Lab, server: PgServer, root: Path) -> dict[str, Any]:
    dsn = server.new_database()
    other = {"h1": "h2", "h2": "h1"}
    moves = []
    for vm in ("vm1", "vm2"):
        src = lab.host_of(vm) or ""
        moves.append((vm, _uuid(lab, vm), src, other[src]))
    plan_id = _seed_plan(dsn, moves)
    a = EngineProcess(lab_engine_config(lab.config_path, root / "a", dsn, poll=POLL))
    a.wait_status("ok", timeout=90)
    b = EngineProcess(lab_engine_config(lab.config_path, root / "b", dsn, poll=POLL))
    b.wait_status("standby", timeout=90)
    try:
        token = a.login()
        with a.client(token) as c:
            until(lambda: all(h["state"] == "up" for h in c.get("/api/v1/hosts").json()), 90,
                  "hosts up")  # fmt: skip

            # the apply answers when the plan is done: sent from a thread, not waited for
            def apply() -> None:
                try:
                    with a.client(token) as cc:
                        cc.post("/api/v1/policies/lab/apply", json={"plan": plan_id}, timeout=600)
                except Exception:
                    pass  # killed under it

            threading.Thread(target=apply, daemon=True).start()
        until(lambda: (_plan_doc(dsn, plan_id)["outcomes"][0] or {}).get("status") == "started",
              120, "step 1 claimed", every=0.005)  # fmt: skip
        killed = time.monotonic()
        a.kill()
        b.wait_status("ok", timeout=120)
        led = time.monotonic()
        (b_token,) = _rows(dsn, "SELECT token FROM ovtui_leader")

        def resumed() -> bool:
            outcomes = _plan_doc(dsn, plan_id)["outcomes"]
            return any(o and o.get("token") == b_token for o in outcomes)

        until(resumed, 300, "the new leader's first stage record", every=0.01)
        settled = time.monotonic()
        until(lambda: _plan_doc(dsn, plan_id)["status"] == "applied", 300, "plan applied")
        applied = time.monotonic()
    finally:
        a.kill()
        b.stop()
    return {
        "takeover_s": round(led - killed, 2),
        "takeover_to_resumed_s": round(settled - led, 2),
        "kill_to_applied_s": round(applied - killed, 2),
    }


def main() -> None:
    quiet_libvirt()
    root = Path(tempfile.mkdtemp(prefix="ovtui-lab-", dir="/tmp"))
    lab = Lab(root=root)
    server = PgServer()
    rows = []
    try:
        lab.up(hosts=2, guests=2)
        for n in range(ROUNDS):
            row = {"round": n + 1, **one_round(lab, server, root / f"round{n}")}
            print(row, flush=True)
            rows.append(row)
    finally:
        server.stop()
        lab.down()
    print_table(rows)
    summary = {
        "takeover_median_s": statistics.median(r["takeover_s"] for r in rows),
        "takeover_to_resumed_median_s": statistics.median(r["takeover_to_resumed_s"] for r in rows),
        "kill_to_applied_median_s": statistics.median(r["kill_to_applied_s"] for r in rows),
    }
    rows.append({"round": "summary", **summary, "floors": FLOORS})
    over = [k for k, floor in FLOORS.items() if summary[k] > floor]
    notes = f"{ROUNDS} rounds; 2 lab hosts, 2 idle guests; poll {POLL} s; kill at step 1's claim"
    path = save("takeover_lab", rows, notes)
    print(summary)
    print(f"saved {path}" + (f"; OVER THE FLOOR: {over}" if over else "; within the floors"))


if __name__ == "__main__":
    main()
