"""The policies screens against a real in-process engine: status, preview, run, apply (all or
one step), mode changes, and which operators get which keys (policy.manage, scoped grants)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rich.text import Text
from textual.css.query import NoMatches
from textual.widgets import OptionList, Static

from ovtui.tui.confirm import ConfirmScreen
from ovtui.tui.plan_mode_picker import ModePicker
from ovtui.tui.plan_screen import PlanScreen, StepsTable
from ovtui.tui.plan_text import load_rows, pending_steps, plan_header, step_rows
from ovtui.tui.policies_view import PoliciesScreen
from ovtui.tui.policies_view_keys import may_manage
from ovtui.tui.rights import Rights
from ovtui.tui.screen_load import while_shown

from .conftest import wait_for
from .policy_fleet import Session, ViewHost, frozen_engine, policy_spec

API = "/api/v1"


@pytest.fixture
def session() -> Iterator[Session]:
    with frozen_engine(policy_spec()) as live:
        yield Session(live)


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def open_policies(pilot: Any, app: ViewHost) -> PoliciesScreen:
    screen = app.view
    assert isinstance(screen, PoliciesScreen)
    await wait_for(pilot, lambda: screen.loads >= 1, what="the policies")
    return screen


async def open_plan(pilot: Any, app: Any, cluster: str = "c1") -> PlanScreen:
    policies = await open_policies(pilot, app)
    policies.query_one("#policies-table").select_key(cluster)  # type: ignore[attr-defined]
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.loads >= 1)
    assert isinstance(app.screen, PlanScreen)
    return app.screen


def keys(screen: Any) -> set[str]:
    return {k for k, b in screen.active_bindings.items() if b.enabled}


# -- pure ------------------------------------------------------------------------------------
PLAN = {
    "kind": "balance",
    "created_at": 0,
    "summary": "c1: 1 migration",
    "steps": [
        {"kind": "migrate", "host": "h1", "target": "h3", "vm_name": "a", "reason": "h1 hot"},
        {"kind": "power_off", "host": "h2", "reason": "empty"},
    ],
    "before": {"h1": {"cpu": 0.9, "memory": 0.5, "vms": 2, "in_service": True},
               "h2": {"cpu": 0.0, "memory": 0.0, "vms": 0, "in_service": True}},
    "after": {"h1": {"cpu": 0.45, "memory": 0.25, "vms": 1, "in_service": True},
              "h2": {"cpu": 0.0, "memory": 0.0, "vms": 0, "in_service": False}},
}  # fmt: skip


def test_plan_cells_show_reasons_outcomes_and_changes() -> None:
    rows = step_rows(PLAN, [{"status": "done", "detail": "cold"}, None], running=True)
    assert [str(c) for c in rows["0"]] == ["1", "migrate a h1 → h3", "done", "h1 hot"]
    assert str(rows["1"][2]) == "running…"  # pending while the plan runs
    assert str(step_rows(PLAN, [], running=False)["1"][2]) == "pending"
    loads = load_rows(PLAN)
    assert [str(c) for c in loads["h1"][1:4]] == ["90% → 45%", "50% → 25%", "2 → 1"]
    assert str(loads["h2"][1]) == "0%" and str(loads["h2"][4]) == "released"
    assert plan_header(None, PLAN, preview=True).startswith("PREVIEW (balance")
    assert plan_header(None, None, preview=False).startswith("No plan stored")
    # An apply runs every step not done: failed and stopped ones again, like the engine.
    doc = {"plan": PLAN, "outcomes": [{"status": "done"}, {"status": "failed"}]}
    assert pending_steps(doc) == [1]
    assert pending_steps({"plan": PLAN, "outcomes": [None]}) == [0, 1]


def test_manage_rights_follow_the_engines_grant_rule() -> None:
    def rights(*grants: tuple[str, str, str], system: tuple[str, ...] = ()) -> Rights:
        who = {"permissions": list(system), "grants": [
            {"role": r, "scope": s, "object": o} for r, s, o in grants]}  # fmt: skip
        return Rights.from_whoami(who)

    assert may_manage(rights(system=("policy.manage",)), "c1", "dc1")
    assert may_manage(rights(("ClusterAdmin", "cluster", "c1")), "c1", "dc1")
    assert not may_manage(rights(("ClusterAdmin", "cluster", "c1")), "c2", "dc1")
    assert may_manage(rights(("ClusterAdmin", "datacenter", "dc1")), "c2", "dc1")
    assert not may_manage(rights(("ClusterAdmin", "host", "h1")), "c1", "dc1")
    assert not may_manage(rights(("PowerUser", "cluster", "c1")), "c1", "dc1")


async def test_a_load_that_lands_after_its_screen_is_gone_is_dropped() -> None:
    async def gone() -> None:
        raise NoMatches("#plan-header")

    async def broken() -> None:
        raise KeyError("plan")

    await while_shown(gone())  # dropped
    with pytest.raises(KeyError):
        await while_shown(broken())  # any other failure still shows


# -- against the engine ----------------------------------------------------------------------
async def test_status_preview_then_run_and_apply_step_by_step(session: Session) -> None:
    app = session.host("admin", PoliciesScreen)
    async with app.run_test(size=(100, 40)) as pilot:
        policies = await open_policies(pilot, app)
        assert policies.query_one("#policies-table").keys == ["c1", "c2"]  # type: ignore[attr-defined]
        status = text_of(policies, "#policy-status")
        assert "policy evenly_distributed · mode recommend (from the config)" in status
        assert "balance: every 86400 s" in status and "not run yet" in status
        assert {"r", "m"} <= keys(policies)

        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.loads)
        plan = app.screen
        assert isinstance(plan, PlanScreen)
        assert text_of(plan, "#plan-header").startswith("No plan stored")
        assert not {"a", "s"} & keys(plan)

        await pilot.press("v")  # preview: computed, shown, not stored
        await wait_for(pilot, lambda: plan.preview is not None, what="the preview")
        assert text_of(plan, "#plan-header").startswith("PREVIEW (balance")
        steps = plan.query_one(StepsTable)
        assert steps.row_count == 2
        assert str(steps.get_cell("0", "step")).startswith("migrate hot-")
        assert str(steps.get_cell("0", "step")).endswith("→ h3")  # the empty host
        assert str(steps.get_cell("0", "outcome")) == "pending"
        assert "why: h" in text_of(plan, "#step-why")  # the reason, in full
        loads = plan.query_one("#loads")
        assert loads.keys == ["h1", "h2", "h3"]  # type: ignore[attr-defined]
        assert "→" in str(loads.get_cell("h3", "cpu"))  # type: ignore[attr-defined]
        assert not {"a", "s"} & keys(plan)  # a preview is never applied
        assert session.call("admin", "GET", f"{API}/policies/c1/plan") is None

        await pilot.press("r")  # recommend mode: the round stores a plan, no question asked
        await wait_for(pilot, lambda: plan.doc is not None and plan.preview is None)
        assert plan.actions.history[-1].ok
        assert text_of(plan, "#plan-header").startswith("plan plan0001 · balance · recommended")
        assert {"a", "s"} <= keys(plan)

        await pilot.press("s")  # step 1 only, after a question; No does nothing
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Apply step 1 of plan plan0001" in app.screen.question  # type: ignore[attr-defined]
        await pilot.press("n")
        assert len(plan.actions.history) == 1
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: len(plan.actions.history) == 2, what="the step's outcome")
        assert plan.actions.history[-1].ok, plan.actions.history[-1].text
        await wait_for(pilot, lambda: str(steps.get_cell("0", "outcome")) == "done")
        assert str(steps.get_cell("1", "outcome")) == "pending"
        assert "done: cold migration" in text_of(plan, "#step-why")

        steps.move_cursor(row=1)
        await pilot.press("a")  # the rest of the plan
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "1 of 2 steps" in app.screen.question  # type: ignore[attr-defined]
        await pilot.press("y")
        await wait_for(pilot, lambda: len(plan.actions.history) == 3, what="the plan's outcome")
        assert plan.actions.history[-1].text.endswith("applied: 1 of 1 steps done")
        await wait_for(pilot, lambda: str(steps.get_cell("1", "outcome")) == "done")
        assert " applied " in text_of(plan, "#plan-header")
        assert not {"a", "s"} & keys(plan)  # nothing left to apply
    doc = session.call("admin", "GET", f"{API}/policies/c1/plan")
    assert doc["status"] == "applied"
    moved = {s["vm_name"]: s["target"] for s in doc["plan"]["steps"]}
    for vm in session.call("admin", "GET", f"{API}/vms", params={"cluster": "c1"}):
        if vm["name"] in moved:
            assert vm["host"] == moved[vm["name"]]


async def test_a_stale_plan_is_refused_with_the_engines_reason(session: Session) -> None:
    session.call("admin", "POST", f"{API}/policies/c1/run")
    app = session.host("admin", PoliciesScreen)
    async with app.run_test(size=(100, 40)) as pilot:
        plan = await open_plan(pilot, app)
        assert plan.doc is not None and plan.doc["id"] == "plan0001"
        # Behind the screen's back: one step applied, and a new round plans the rest.
        session.call("admin", "POST", f"{API}/policies/c1/apply-step", json={"step": 0})
        session.call("admin", "POST", f"{API}/policies/c1/run")
        await pilot.press("a", "y")
        await wait_for(pilot, lambda: plan.actions.history, what="the refusal")
        refused = plan.actions.history[-1]
        assert not refused.ok and refused.status == 409
        assert "superseded by plan plan0002" in refused.text
        line = app.screen.query_one("ActivityLine")
        assert line.text.startswith("✗ apply plan plan0001") and line.has_class("-error")
        await wait_for(pilot, lambda: plan.doc is not None and plan.doc["id"] == "plan0002")


async def test_mode_change_asks_for_automatic_and_can_return_to_the_config(
    session: Session,
) -> None:
    app = session.host("admin", PoliciesScreen)
    async with app.run_test(size=(100, 40)) as pilot:
        policies = await open_policies(pilot, app)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, ModePicker))
        picker = app.screen.query_one(OptionList)
        assert picker.highlighted == 1  # the current mode: recommend
        await pilot.press("down", "enter")  # automatic
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "without review" in app.screen.question  # type: ignore[attr-defined]
        await pilot.press("y")
        await wait_for(pilot, lambda: policies.actions and policies.actions.history)
        await wait_for(pilot, lambda: policies.statuses["c1"]["mode"] == "automatic")
        cell = policies.query_one("#policies-table").get_cell("c1", "mode")  # type: ignore[attr-defined]
        assert isinstance(cell, Text) and cell.plain == "automatic*"  # * = set at run time
        assert "set at run time; the config says recommend" in text_of(policies, "#policy-status")

        await pilot.press("m", "end", "enter")  # reset: back to the config's mode, no question
        await wait_for(pilot, lambda: policies.statuses["c1"]["mode_source"] == "config")
        assert policies.statuses["c1"]["mode"] == "recommend"
    modes = [r["params"].get("mode") for r in session.live.audit_records()
             if r["action"] == "policy.mode"]  # fmt: skip
    assert modes == ["automatic", "config"]


async def test_keys_follow_policy_manage_per_cluster_and_refusals_say_so(
    session: Session,
) -> None:
    # The Operator role cannot manage policies; a grant gives it c1, and only c1.
    grant = {"user": "operator", "role": "ClusterAdmin", "scope": "cluster", "object": "c1"}
    session.call("admin", "POST", f"{API}/grants", json=grant)
    app = session.host("operator", PoliciesScreen)
    async with app.run_test(size=(100, 40)) as pilot:
        policies = await open_policies(pilot, app)
        table = policies.query_one("#policies-table")
        assert {"r", "m"} <= keys(policies)  # c1 is highlighted first
        table.select_key("c2")  # type: ignore[attr-defined]
        await pilot.pause()
        assert not {"r", "m"} & keys(policies)
        await pilot.press("r", "m")  # hidden keys do nothing
        await pilot.pause(0.2)
        assert app.screen is policies and not policies.actions.history  # type: ignore[union-attr]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.loads)
        assert not {"r", "m", "a", "s"} & keys(app.screen)
        assert "v" in keys(app.screen)  # reading is allowed
        # Forced past the hidden keys, the engine refuses, and the screen says why.
        outcome = await policies.actions.perform(  # type: ignore[union-attr]
            "c2", "POST", f"{API}/policies/c2/run", None, "run policy on c2"
        )
        assert not outcome.ok and outcome.status == 403
        assert outcome.text.startswith("not allowed: operator may not policy.manage")
    viewer = session.host("viewer", PoliciesScreen)
    async with viewer.run_test(size=(100, 40)) as pilot:
        policies = await open_policies(pilot, viewer)
        assert not {"r", "m"} & keys(policies)


async def test_the_dashboard_opens_the_policies_with_a_command(session: Session) -> None:
    app = session.app("admin")
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1, what="the first poll")
        await pilot.press("colon", *"policies", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PoliciesScreen))
        screen = app.screen
        assert isinstance(screen, PoliciesScreen)
        await wait_for(pilot, lambda: screen.loads >= 1, what="the policies")
        assert screen.query_one("#policies-table").keys == ["c1", "c2"]  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert app.screen is app.dashboard


def test_the_status_of_a_power_saving_cluster_says_how_it_consolidates() -> None:
    from ovtui.tui.plan_text import status_text

    base = {"policy": "power_saving", "mode": "recommend", "jobs": []}
    demand = {"ConsolidationMode": "demand", "DemandCapacityRatioTarget": 63,
              "DemandCapacityRatioTolerance": 18, "HighUtilization": 80}  # fmt: skip
    assert (
        "consolidation demand: CPU demand kept at 63% ± 18% of the CPUs in service, "
        "no host above 80%"
    ) in status_text({**base, "params": demand})
    ovirt = {"ConsolidationMode": "low_utilization", "LowUtilization": 20, "HighUtilization": 80}
    assert (
        "consolidation low_utilization (oVirt): hosts under 20% are drained, no host above 80%"
    ) in status_text({**base, "params": ovirt})
    balancing = status_text({**base, "policy": "evenly_distributed", "params": demand})
    assert "consolidation" not in balancing
