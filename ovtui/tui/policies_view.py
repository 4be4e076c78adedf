"""The policies screen: every cluster's scheduling policy, mode, jobs and latest plan.

Enter opens the cluster's plan (plan_screen.py). Keys that change anything (run now, mode) are
offered only on clusters where the operator holds policy.manage, system-wide or by a grant on
the cluster or its data center.
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
from ovtui.tui.plan_screen import PlanScreen
from ovtui.tui.plan_text import cluster_cells, status_text
from ovtui.tui.policies_view_keys import POLICY_BINDINGS, may_manage
from ovtui.tui.poller import Poller
from ovtui.tui.rights import Rights
from ovtui.tui.screen_load import while_shown

COLUMNS = (
    Col("cluster", "Cluster"),
    Col("policy", "Policy"),
    Col("mode", "Mode"),
    Col("latest", "Latest plan"),
    Col("busy", "", 4),
)


class PoliciesScreen(FleetScreen):
    DEFAULT_CSS = """
    PoliciesScreen KeyedTable { height: auto; max-height: 50%; }
    PoliciesScreen #policy-status { height: auto; padding: 0 1; border: round $accent; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "back", tooltip="back to the dashboard"),
        *POLICY_BINDINGS,
    ]
    HELP_TITLE = "policies"

    def __init__(self, chrome: Chrome, poller: Poller) -> None:
        super().__init__(chrome)
        self.poller = poller
        self.rights: Rights | None = None
        self.statuses: dict[str, dict[str, Any]] = {}
        self.datacenters: dict[str, str] = {}  # cluster -> data center, for grants
        self.actions: PlanActions | None = None
        self.loads = 0  # completed loads; tests wait on it

    def body(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="policies-table")
        yield Static("loading…", id="policy-status", markup=False)

    def on_mount(self) -> None:
        self.actions = PlanActions(self.app, self.poller.client, self.chrome.activity, self.changed)
        self.query_one(KeyedTable).focus()
        self.reload()

    def changed(self) -> None:
        """After an action starts or ends: every activity line, and fresh data on top."""
        for screen in self.app.screen_stack:
            if isinstance(screen, FleetScreen) and screen.is_mounted:
                screen.redraw_chrome()
        if isinstance(self.app.screen, FleetScreen):
            self.app.screen.reload()

    # -- data --------------------------------------------------------------------------------
    def reload(self) -> None:
        self.run_worker(while_shown(self._load()), exclusive=True, group="policies")

    async def _load(self) -> None:
        try:
            if self.rights is None:
                who, clusters = await asyncio.gather(
                    self.poller.session(), self.poller.get("/api/v1/clusters")
                )
                self.rights = Rights.from_whoami(who)
                self.datacenters = {str(c["name"]): str(c.get("datacenter", "")) for c in clusters}
            statuses = await self.poller.get("/api/v1/policies")
        except ApiError as exc:
            if exc.status:  # status 0 (unreachable) is the banner's job
                self.query_one("#policy-status", Static).update(exc.message)
            return
        self.show(statuses)

    def show(self, statuses: list[dict[str, Any]]) -> None:
        self.statuses = {str(s["cluster"]): s for s in statuses}
        self.query_one(KeyedTable).sync({k: cluster_cells(s) for k, s in self.statuses.items()})
        self._show_selected()
        self.refresh_bindings()
        self.loads += 1

    def selected(self) -> dict[str, Any] | None:
        key = self.query_one(KeyedTable).cursor_key
        return self.statuses.get(key) if key else None

    def _show_selected(self) -> None:
        status = self.selected()
        panel = self.query_one("#policy-status", Static)
        if status is None:
            panel.update("No clusters." if not self.statuses else "")
            return
        panel.border_title = f"cluster {status['cluster']}"
        panel.update(status_text(status))

    def may_manage(self, cluster: str) -> bool:
        return may_manage(self.rights or Rights(), cluster, self.datacenters.get(cluster, ""))

    # -- keys --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("run_now", "mode"):
            status = self.selected()
            return status is not None and self.may_manage(str(status["cluster"]))
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_selected()
        self.refresh_bindings()  # rights differ per cluster

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        cluster = str(event.row_key.value)
        if cluster in self.statuses and self.actions is not None:
            self.app.push_screen(
                PlanScreen(
                    self.chrome,
                    self.poller,
                    cluster,
                    self.actions,
                    self.may_manage(cluster),
                )
            )

    def action_run_now(self) -> None:
        status = self.selected()
        if status is not None and self.actions is not None:
            self.actions.run_now(str(status["cluster"]), str(status.get("mode", "")))

    def action_mode(self) -> None:
        status = self.selected()
        if status is not None and self.actions is not None:
            cluster = str(status["cluster"])
            mode, config_mode = str(status.get("mode", "")), str(status.get("config_mode", ""))
            self.actions.change_mode(cluster, mode, config_mode)
