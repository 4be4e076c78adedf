"""Stored plans: newest first, superseded when a newer one comes, idle rounds do not pile up."""

from __future__ import annotations

from pathlib import Path

from ovtui.jobs.plan_store import KEEP_PER_CLUSTER, PlanStore
from ovtui.store import Store
from policies.plan import Plan, Step, StepKind


def _plan(t: float, steps: int = 1, cluster: str = "c") -> Plan:
    return Plan(cluster, "balance", "evenly_distributed", t, f"plan at {t}",
                steps=tuple(Step(StepKind.MIGRATE, "a", "r", f"u{i}", f"v{i}", "b")
                            for i in range(steps)))  # fmt: skip


def test_latest_superseded_and_outcomes(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        plans = PlanStore(store)
        first = plans.save(_plan(1.0), mode="recommend", trigger="schedule")
        again = plans.save(_plan(1.5), mode="recommend", trigger="schedule")
        assert again["id"] == first["id"]  # the same steps: the reviewed id stays valid
        assert plans.get(first["id"])["created_at"] == 1.5  # type: ignore[index]
        second = plans.save(_plan(2.0, steps=2), mode="recommend", trigger="schedule")
        plans.save(_plan(3.0, cluster="other"), mode="recommend", trigger="schedule")
        assert plans.latest("c")["id"] == second["id"]  # type: ignore[index]
        assert plans.get(first["id"])["status"] == "superseded"  # type: ignore[index]
        plans.set_outcome(second["id"], 0, {"status": "done"})
        got = plans.get(second["id"])
        assert got is not None and got["outcomes"] == [{"status": "done"}, None]
        got["outcomes"].append("mutated")  # a copy: the store is not changed through it
        assert len(plans.get(second["id"])["outcomes"]) == 2  # type: ignore[index]
        assert plans.plan(got).steps[0].vm_name == "v0"


def test_idle_rounds_replace_each_other_and_old_plans_are_pruned(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        plans = PlanStore(store)
        for t in range(5):
            plans.save(_plan(float(t), steps=0), mode="recommend", trigger="schedule")
        assert len(store.table("policy_plans")) == 1
        for t in range(5, 5 + KEEP_PER_CLUSTER + 5):
            plans.save(_plan(float(t), steps=t % 2 + 1), mode="recommend", trigger="schedule")
        assert len(store.table("policy_plans")) == KEEP_PER_CLUSTER
        assert plans.latest("c")["created_at"] == 4 + KEEP_PER_CLUSTER + 5  # type: ignore[index]
