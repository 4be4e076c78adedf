"""Plans kept in the engine's Store: the newest few per cluster, with each step's outcome.

One document per plan in table "policy_plans":
    {"id", "cluster", "kind", "created_at", "mode", "trigger", "status", "plan": Plan.to_dict(),
     "outcomes": [None | {"status", "detail", "at", "by"}, ...]}   # one entry per step
status: recommended (stored, nothing done) | running | applied | partial | stopped | failed |
superseded (a newer plan for the cluster was stored before this one was applied).

While a plan runs, its document also says how it was asked for ("run": {"only", "approved_by",
"token"}), and each step's outcome is written *before* the step acts ({"status": "started",
"token": the leader's fencing token, ...}) and again when it ends. On PostgreSQL every write is
fenced (a deposed engine's is refused), so after a takeover the new leader finds each plan that
was running, the step that was under way and who claimed it, and resumes from there
(PlanRunner.resume): it never acts twice on a step it cannot see the end of.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from tinydb import where

from ovtui.store import Store
from policies.plan import Plan, plan_from_dict

TABLE = "policy_plans"
KEEP_PER_CLUSTER = 20


class PlanStore:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._table = store.table(TABLE)

    def save(self, plan: Plan, *, mode: str, trigger: str) -> dict[str, Any]:
        """Stores a new plan (one write of the state file).

        A round that recommends exactly what the latest plan still waiting for approval does
        refreshes that plan in place and keeps its id, so an operator who reviewed it can still
        apply it by id; a plan with no steps likewise replaces one with no steps, so idle rounds
        do not push real plans out.
        """
        latest = self.latest(plan.cluster)
        waiting = latest is not None and (latest["status"] == "recommended" or not plan.steps)
        if latest is not None and waiting and _same_steps(latest, plan):
            plan = plan.with_id(latest["id"])
        plan = plan.with_id(plan.id or secrets.token_hex(6))
        doc = {
            "id": plan.id,
            "cluster": plan.cluster,
            "kind": plan.kind,
            "created_at": plan.created_at,
            "mode": mode,
            "trigger": trigger,
            "status": "recommended",
            "plan": plan.to_dict(),
            "outcomes": [None] * len(plan.steps),
        }
        with self._store.transaction():
            if latest is not None and latest["id"] == plan.id:
                if plan.steps:
                    doc["outcomes"] = latest["outcomes"]
                self._table.update(doc, where("id") == latest["id"])
                return doc
            self._table.update(
                {"status": "superseded"},
                (where("cluster") == plan.cluster) & (where("status") == "recommended"),
            )
            self._table.insert(doc)
            self._prune(plan.cluster)
        return doc

    def _prune(self, cluster: str) -> None:
        docs = sorted(
            self._table.search(where("cluster") == cluster),
            key=lambda d: (d["created_at"], getattr(d, "doc_id", 0)),
        )
        for old in docs[:-KEEP_PER_CLUSTER]:
            self._table.remove(where("id") == old["id"])

    def get(self, plan_id: str) -> dict[str, Any] | None:
        doc = self._table.get(where("id") == plan_id)
        return copy.deepcopy(dict(doc)) if doc is not None else None

    def latest(self, cluster: str) -> dict[str, Any] | None:
        docs = self._table.search(where("cluster") == cluster)
        if not docs:
            return None
        return copy.deepcopy(
            dict(max(docs, key=lambda d: (d["created_at"], getattr(d, "doc_id", 0))))
        )

    def plan(self, doc: dict[str, Any]) -> Plan:
        return plan_from_dict(doc["plan"])

    def set_status(self, plan_id: str, status: str) -> None:
        self._table.update({"status": status}, where("id") == plan_id)

    def running(self) -> list[dict[str, Any]]:
        """Plans an engine was applying when it stopped (or died)."""
        return [copy.deepcopy(dict(d)) for d in self._table.search(where("status") == "running")]

    def set_run(self, plan_id: str, run: dict[str, Any]) -> None:
        """status running, and how the run was asked for: what a resumption needs."""
        self._table.update({"status": "running", "run": run}, where("id") == plan_id)

    def set_outcome(self, plan_id: str, index: int, outcome: dict[str, Any]) -> None:
        doc = self._table.get(where("id") == plan_id)
        if doc is None:
            return
        outcomes = list(doc["outcomes"])
        outcomes[index] = outcome
        self._table.update({"outcomes": outcomes}, where("id") == plan_id)


def _same_steps(doc: dict[str, Any], plan: Plan) -> bool:
    def key(kind: str, host: str, vm: str, target: str) -> tuple[str, str, str, str]:
        return (kind, host, vm, target)

    stored = [key(s["kind"], s["host"], s["vm_uuid"], s["target"]) for s in doc["plan"]["steps"]]
    new = [key(s.kind.value, s.host, s.vm_uuid, s.target) for s in plan.steps]
    return doc["kind"] == plan.kind and stored == new
