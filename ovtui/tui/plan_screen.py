"""One cluster's plan: every step with its reason and outcome, and each host's predicted
utilisation before and after. Shows the latest stored plan, or a preview computed on request.

Apply and apply-one-step work on the stored plan only (a preview is never stored: `r` runs the
round, which stores it for review). While a plan runs, each refresh shows the steps done so far.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from ovtui.client import ApiError
from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.keyed_table import Col, KeyedTable
from ovtui.tui.plan_actions import PlanActions
from ovtui.tui.plan_text import load_rows, pending_steps, plan_header, step_detail, step_rows
from ovtui.tui.policies_view_keys import POLICY_BINDINGS
from ovtui.tui.poller import Poller
from ovtui.tui.screen_load import while_shown

STEP_COLUMNS = (Col("n", "#"), Col("step", "Step"), Col("outcome", "Outcome"), Col("why", "Why"))
LOAD_COLUMNS = (
    Col("host", "Host"),
    Col("cpu", "CPU"),
    Col("memory", "Memory"),
    Col("vms", "VMs"),
    Col("service", "Service"),
)


class StepsTable(KeyedTable):
    # Enter has nothing to open here: the highlighted step's reason is shown in full below (the
    # table cuts it at the edge rather than scrolling sideways).
    BINDINGS = [Binding("enter", "select_cursor", "open", show=False)]


class PlanScreen(FleetScreen):
    DEFAULT_CSS = """
    PlanScreen #plan-header { height: auto; max-height: 8; padding: 0 1; border: round $accent; }
    PlanScreen StepsTable { height: auto; max-height: 40%; overflow-x: hidden; }
    PlanScreen #step-why { height: auto; max-height: 5; padding: 0 1; color: $text-muted; }
    PlanScreen #loads { height: auto; max-height: 1fr; margin-top: 1; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "back", tooltip="back to the policies"),
        Binding("a", "apply", "apply", tooltip="apply the plan's pending steps (asks first)"),
        Binding("s", "apply_step", "step", tooltip="apply the highlighted step only"),
        Binding("v", "preview", "preview", tooltip="preview a plan computed now / back"),
        *POLICY_BINDINGS,
    ]
    HELP_TITLE = "policy plan"

    def __init__(
        self, chrome: Chrome, poller: Poller, cluster: str, actions: PlanActions, manage: bool
    ) -> None:
        super().__init__(chrome)
        self.poller, self.cluster, self.actions, self.manage = poller, cluster, actions, manage
        self.status: dict[str, Any] = {}
        self.doc: dict[str, Any] | None = None  # the latest stored plan (PlanStore document)
        self.preview: dict[str, Any] | None = None  # Plan.to_dict() while previewing
        self.computing = False  # a preview was asked for and has not come yet
        self.loads = 0  # completed loads; tests wait on it

    def body(self) -> ComposeResult:
        yield Static("loading…", id="plan-header", markup=False)
        yield StepsTable(STEP_COLUMNS, id="steps")
        yield Static("", id="step-why", markup=False)
        yield KeyedTable(LOAD_COLUMNS, sort="host", id="loads")

    def on_mount(self) -> None:
        self.query_one("#plan-header", Static).border_title = f"policy plan · {self.cluster}"
        self.query_one(StepsTable).focus()
        self.reload()

    # -- data --------------------------------------------------------------------------------
    def reload(self) -> None:
        self.run_worker(while_shown(self._load()), exclusive=True, group="plan")

    async def _load(self) -> None:
        base = f"/api/v1/policies/{self.cluster}"
        try:
            self.status, self.doc = await asyncio.gather(
                self.poller.get(base), self.poller.get(f"{base}/plan")
            )
        except ApiError as exc:
            if exc.status:  # status 0 (unreachable) is the banner's job
                self.query_one("#plan-header", Static).update(exc.message)
            return
        self.show()

    async def _load_preview(self) -> None:
        # Its own worker group: the refresh ticks (reload) must not cancel a slow preview.
        try:
            preview = await self.poller.get(f"/api/v1/policies/{self.cluster}/preview")
        except ApiError as exc:
            self.notify(exc.message, title="preview failed", severity="error", markup=False)
            return
        finally:
            self.computing = False
        self.preview = preview
        self.show()

    @property
    def plan(self) -> dict[str, Any] | None:
        if self.preview is not None:
            return self.preview
        return self.doc.get("plan") if self.doc else None

    @property
    def outcomes(self) -> list[dict[str, Any] | None]:
        return list(self.doc.get("outcomes") or []) if self.doc and not self.preview else []

    def show(self) -> None:
        plan = self.plan
        header = self.query_one("#plan-header", Static)
        header.border_subtitle = (
            f"{self.status.get('policy', '?')} · mode {self.status.get('mode', '?')}"
        )
        if self.computing:
            header.update("computing a preview…")
        else:
            header.update(plan_header(self.doc, plan, self.preview is not None))
        running = bool(self.doc and self.doc.get("status") == "running" and not self.preview)
        self.query_one(StepsTable).sync(step_rows(plan, self.outcomes, running) if plan else {})
        self.query_one("#loads", KeyedTable).sync(load_rows(plan) if plan else {})
        self._show_step()
        self.refresh_bindings()
        self.loads += 1

    def selected_step(self) -> int | None:
        key = self.query_one(StepsTable).cursor_key
        return int(key) if key is not None else None

    def _show_step(self) -> None:
        why = self.query_one("#step-why", Static)
        index, plan = self.selected_step(), self.plan
        if index is None or plan is None:
            why.update("")
            return
        outcomes = self.outcomes
        why.update(step_detail(plan["steps"][index], outcomes[index] if outcomes else None))

    def _pending(self) -> list[int]:
        if self.doc is None or self.preview is not None:
            return []
        return pending_steps(self.doc)

    # -- keys --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("run_now", "mode"):
            return self.manage
        if action == "apply":
            return self.manage and bool(self._pending())
        if action == "apply_step":
            return self.manage and self.selected_step() in self._pending()
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.data_table.id == "steps":
            self._show_step()
            self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()

    def action_apply(self) -> None:
        if self.doc is not None:
            self.actions.apply(self.cluster, self.doc)

    def action_apply_step(self) -> None:
        index = self.selected_step()
        if self.doc is not None and index is not None:
            self.actions.apply_step(self.cluster, self.doc, index)

    def action_preview(self) -> None:
        if self.preview is not None:
            self.preview = None
            self.reload()
        else:
            self.computing = True
            self.query_one("#plan-header", Static).update("computing a preview…")
            self.run_worker(while_shown(self._load_preview()), exclusive=True, group="plan-preview")

    def action_run_now(self) -> None:
        self.preview = None  # the round stores a plan: show it when it lands
        self.actions.run_now(self.cluster, str(self.status.get("mode", "")))

    def action_mode(self) -> None:
        status = self.status
        self.actions.change_mode(
            self.cluster, str(status.get("mode", "")), str(status.get("config_mode", ""))
        )
