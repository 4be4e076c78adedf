"""Policy actions: run now, apply a plan or one step of it, change the mode.

Each runs in an app worker (it outlives the screen it was started from): a confirmation first
where the action changes the fleet, then progress on every screen's activity line, then the
outcome as a notification. Refusals keep the engine's own words and say which kind they are:
403 (not allowed) or 409 (the plan was superseded, a round is running, the step is done).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from textual.app import App

from ovtui.client import ApiError, AsyncClient
from ovtui.tui.activity import Activity
from ovtui.tui.confirm import ConfirmScreen
from ovtui.tui.plan_mode_picker import ModePicker
from ovtui.tui.plan_text import pending_steps, step_text
from ovtui.tui.vm_actions import Outcome

BASE = "/api/v1/policies"


def refusal_title(what: str, status: int) -> str:
    kind = {403: "not allowed", 409: "refused", 404: "not found", 0: "engine unreachable"}
    return f"{what}: {kind.get(status, 'failed')} ({status})" if status else kind[0]


class PlanActions:
    def __init__(
        self, app: App[Any], client: AsyncClient, activity: Activity, changed: Callable[[], None]
    ) -> None:
        self.app, self.client, self.activity = app, client, activity
        self.changed = changed  # redraw the activity lines and reload the screen on top
        self.history: list[Outcome] = []  # newest last
        self._busy: set[str] = set()
        self._tokens = itertools.count()

    # -- what the keys ask for ---------------------------------------------------------------
    def run_now(self, cluster: str, mode: str) -> None:
        async def ask() -> bool:
            if mode != "automatic":
                return True  # recommend: the round only stores a plan for review
            return await self._confirm(
                f"Run the policy on {cluster} now?\nThe mode is automatic: the plan it computes "
                "is applied at once, without review."
            )

        self._start(cluster, ask, "POST", f"{BASE}/{cluster}/run", None, f"run policy on {cluster}")

    def apply(self, cluster: str, doc: dict[str, Any]) -> None:
        plan = doc.get("plan") or {}
        steps = plan.get("steps") or []
        pending = pending_steps(doc)
        question = (
            f"Apply plan {doc.get('id')} on {cluster}: {len(pending)} of "
            f"{len(steps)} steps?\n{plan.get('summary', '')}\nEach step is checked again "
            "before it runs; the plan stops at the first premise that no longer holds."
        )
        body = {"plan": doc.get("id")}
        what = f"apply plan {doc.get('id')} on {cluster}"
        self._start(cluster, self._ask(question), "POST", f"{BASE}/{cluster}/apply", body, what)

    def apply_step(self, cluster: str, doc: dict[str, Any], index: int) -> None:
        step = (doc.get("plan") or {}).get("steps", [])[index]
        question = (
            f"Apply step {index + 1} of plan {doc.get('id')} on {cluster}?\n{step_text(step)}\n"
            f"why: {step.get('reason', '')}"
        )
        body = {"plan": doc.get("id"), "step": index}
        what = f"step {index + 1} of plan {doc.get('id')} ({step_text(step)})"
        path = f"{BASE}/{cluster}/apply-step"
        self._start(cluster, self._ask(question), "POST", path, body, what)

    def change_mode(self, cluster: str, current: str, config_mode: str) -> None:
        async def run() -> None:
            picked = await self.app.push_screen_wait(ModePicker(cluster, current, config_mode))
            if picked is None or picked == current:
                return
            if picked == "automatic" and not await self._confirm(
                f"Set {cluster} to automatic?\nIts policy rounds will then apply their plans "
                "without review."
            ):
                return
            what = f"set the mode of {cluster} to {picked}"
            if picked == "reset":
                await self.perform(cluster, "DELETE", f"{BASE}/{cluster}/mode", None, what)
            else:
                body = {"mode": picked}
                await self.perform(cluster, "PUT", f"{BASE}/{cluster}/mode", body, what)

        self.app.run_worker(run(), group="policy-actions")

    # -- how one runs ------------------------------------------------------------------------
    def _ask(self, question: str) -> Callable[[], Any]:
        async def ask() -> bool:
            return await self._confirm(question)

        return ask

    async def _confirm(self, question: str) -> bool:
        answer: bool = await self.app.push_screen_wait(ConfirmScreen(question))
        return answer

    def _start(
        self,
        cluster: str,
        ask: Callable[[], Any],
        method: str,
        path: str,
        body: dict[str, Any] | None,
        what: str,
    ) -> None:
        async def run() -> None:
            if cluster in self._busy:
                self.app.notify(f"{cluster}: a policy action is under way", severity="warning")
                return
            if await ask():
                await self.perform(cluster, method, path, body, what)

        self.app.run_worker(run(), group="policy-actions")

    async def perform(
        self, cluster: str, method: str, path: str, body: dict[str, Any] | None, what: str
    ) -> Outcome:
        """The call itself, without questions; also what a test forces past hidden keys."""
        token = next(self._tokens)
        self._busy.add(cluster)
        self.activity.start(token, f"{what}…")
        self.changed()
        try:
            # No short timeout: applying a plan lasts as long as its migrations.
            result = await self.client.request(method, path, json=body)
        except ApiError as exc:
            text = f"{what}: {exc.message}" if exc.status != 403 else f"not allowed: {exc.message}"
            outcome = Outcome(False, text, exc.status)
        else:
            # A plan that ran but stopped or failed is answered with 200: still a failure here.
            failed = isinstance(result, dict) and result.get("status") in ("failed", "stopped")
            outcome = Outcome(not failed, f"{what}: {_result(result)}")
        finally:
            self._busy.discard(cluster)
        self.history.append(outcome)
        self.activity.finish(token, outcome.text, outcome.ok)
        self.app.notify(
            outcome.text,
            title="" if outcome.ok else refusal_title(what, outcome.status),
            severity="information" if outcome.ok else "error",
            timeout=8 if outcome.ok else 15,
            markup=False,
        )
        self.changed()
        return outcome


def _result(result: Any) -> str:
    if not isinstance(result, dict):
        return "done"
    return str(result.get("result") or result.get("status") or "done")
