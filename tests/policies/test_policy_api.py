"""The policy routes and `ovtui policy` over the real socket of a running engine."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ovtui.api.routes.policies import router
from ovtui.cli.main import main
from tests.api.test_rbac_matrix import EXPECTED
from tests.conftest import API, LiveEngine
from tests.policies.test_policy_engine import two_hot_hosts


@pytest.fixture
def live(start_engine: Callable[..., LiveEngine]) -> LiveEngine:
    return start_engine(two_hot_hosts())


def test_every_policy_route_is_in_the_rbac_matrix() -> None:
    served = {(m, r.path) for r in router.routes for m in getattr(r, "methods", ())}
    assert len(served) == 9
    missing = served - EXPECTED.keys()
    assert not missing, f"add these to EXPECTED in tests/api/test_rbac_matrix.py: {missing}"
    for (method, _path), expect in ((k, EXPECTED[k]) for k in served):
        if method == "GET":
            assert expect.permission is None  # inventory.read: every role
        else:
            assert expect.permission == "policy.manage"


def test_preview_shows_a_plan_and_stores_nothing(live: LiveEngine) -> None:
    viewer = live.as_role("ReadOnly")
    plan = viewer.get(f"{API}/policies/c1/preview").json()
    assert plan["kind"] == "balance" and len(plan["steps"]) == 2
    assert all(s["reason"].startswith(("h1 CPU", "h2 CPU")) for s in plan["steps"])
    assert set(plan["before"]) == {"h1", "h2", "h3", "h4"} and plan["metrics"]["migrations"] == 2
    assert viewer.get(f"{API}/policies/c1/plan").json() is None
    status = viewer.get(f"{API}/policies/c1").json()
    assert (status["policy"], status["mode"], status["mode_source"]) == (
        "evenly_distributed", "recommend", "config"
    )  # fmt: skip
    assert status["jobs"][0]["job"] == "balance:c1" and status["jobs"][0]["next_run"]
    assert status["params"]["HighUtilization"] == 80
    assert viewer.get(f"{API}/policies/nope").status_code == 404
    assert viewer.get(f"{API}/policies/c1/preview", params={"kind": "x"}).status_code == 422


def test_run_then_apply_one_step_then_the_rest(live: LiveEngine) -> None:
    admin = live.as_role("ClusterAdmin")
    run = admin.post(f"{API}/policies/c1/run").json()
    assert run["result"].startswith("recommend: c1: 2 migrations")
    doc = admin.get(f"{API}/policies/c1/plan").json()
    assert doc["id"] == run["plan"] and doc["status"] == "recommended"
    step = admin.post(f"{API}/policies/c1/apply-step", json={"step": 1}).json()
    assert step["result"] == "partial: 1 of 1 steps done"
    rest = admin.post(f"{API}/policies/c1/apply", json={"plan": doc["id"]}).json()
    assert rest["result"] == "applied: 1 of 1 steps done"
    done = admin.get(f"{API}/policies/c1/plan").json()
    assert done["status"] == "applied" and all(o["status"] == "done" for o in done["outcomes"])
    assert admin.post(f"{API}/policies/c1/apply-step", json={"step": 0}).status_code == 409
    assert admin.post(f"{API}/policies/c1/apply-step", json={"step": 7}).status_code == 404
    assert admin.post(f"{API}/policies/c1/apply", json={"plan": "nope"}).status_code == 404
    actions = [(r["actor"], r["action"]) for r in live.audit_records()]
    assert ("clusteradmin", "policy.run") in actions
    assert ("clusteradmin", "policy.apply_step") in actions
    assert actions.count(("policy:balance:c1", "vm.migrate")) == 2


def test_the_mode_is_set_at_run_time_and_reset(live: LiveEngine) -> None:
    admin = live.as_role("ClusterAdmin")
    out = admin.put(f"{API}/policies/c1/mode", json={"mode": "automatic"}).json()
    assert out["result"] == "mode automatic (set at run time)"
    assert live.engine.store.get_setting("policy.mode.c1") == "automatic"
    assert admin.get(f"{API}/policies").json()[0]["mode_source"] == "override"
    assert admin.put(f"{API}/policies/c1/mode", json={"mode": "auto"}).status_code == 422
    out = admin.delete(f"{API}/policies/c1/mode").json()
    assert out["result"] == "mode recommend (reset to the config)"
    refused = live.as_role("PowerUser").put(f"{API}/policies/c1/mode", json={"mode": "off"})
    assert refused.status_code == 403


def test_the_cli(live: LiveEngine, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OVTUI_SOCKET", str(live.socket))
    monkeypatch.setenv("OVTUI_TOKEN", live.login("clusteradmin"))
    assert main(["policy", "preview", "c1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("preview (balance, computed ") and "why: h1 CPU" in out
    assert "HOST" in out and "BEFORE" in out
    assert main(["policy", "mode", "c1", "automatic"]) == 0
    assert capsys.readouterr().out == "c1: mode automatic (set at run time)\n"
    assert main(["policy", "run", "c1"]) == 0
    assert capsys.readouterr().out.startswith("automatic: applied: c1: 2 migrations")
    assert main(["policy", "show", "c1"]) == 0
    out = capsys.readouterr().out
    assert "c1: policy evenly_distributed, mode automatic (override)" in out
    assert "status: applied" in out and "[done: cold migration" in out
    assert "parameters: HighUtilization=80, " in out and ", ConsolidationMode=demand, " in out
    assert main(["policy", "list"]) == 0
    assert "c1       evenly_distributed  automatic*" in capsys.readouterr().out
    assert main(["policy", "mode", "c1", "reset"]) == 0
    assert main(["policy", "apply", "c1"]) == 0
    assert "nothing to apply" in capsys.readouterr().out
