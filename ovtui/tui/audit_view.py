"""The audit screen: the engine's audit trail, newest first, with a filter and a chain check.

Needs audit.read (system-wide: the engine grants no scoped audit reading). Records are paged
with the API's `since` (seq) parameter: the newest page at start, what came since on each
refresh, older pages on request. Filtering is done here, over the records loaded, so the chain
check always sees an unbroken run of them.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from ovtui.client import ApiError
from ovtui.tui.audit_detail import AuditDetail
from ovtui.tui.audit_rows import AuditFilter, AuditFilterError, cells, chain_status, parse_filter
from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.filter_box import show_problem
from ovtui.tui.keyed_table import Col, KeyedTable
from ovtui.tui.poller import Poller
from ovtui.tui.screen_load import while_shown

READ = "audit.read"
PAGE = 500  # records per request
COLUMNS = (
    Col("seq", "Seq"),
    Col("time", "Time"),
    Col("actor", "Actor"),
    Col("action", "Action"),
    Col("target", "Target"),
    Col("result", "Result"),
    Col("detail", "Detail"),
)


class AuditScreen(FleetScreen):
    DEFAULT_CSS = """
    AuditScreen #audit-chain { height: auto; padding: 0 1; }
    AuditScreen #audit-chain.-broken { background: $error; color: $text; text-style: bold; }
    AuditScreen #audit-count { height: 1; padding: 0 1; color: $text-muted; }
    AuditScreen KeyedTable { height: 1fr; }
    AuditScreen #audit-filter { display: none; dock: bottom; }
    AuditScreen #audit-filter.-shown { display: block; }
    AuditScreen #audit-filter.-invalid { border: tall $error; }
    """
    BINDINGS = [
        Binding("escape", "back", "back", tooltip="clear the filter, or back to the dashboard"),
        Binding("slash", "filter", "filter", key_display="/",
                tooltip="filter: actor:NAME action:NAME result:ok|denied|refused|failed|alert "
                        "target:T words"),
        Binding("b", "older", "older", tooltip="load older records"),
    ]  # fmt: skip
    HELP_TITLE = "audit trail"

    def __init__(self, chrome: Chrome, poller: Poller) -> None:
        super().__init__(chrome)
        self.poller = poller
        self.records: dict[int, dict[str, Any]] = {}  # by seq
        self.filter = AuditFilter()
        self.allowed: bool | None = None  # None until the session is known
        self.page = PAGE
        self.loads = 0  # completed loads; tests wait on it

    def body(self) -> ComposeResult:
        yield Static("loading…", id="audit-chain", markup=False)
        yield Static("", id="audit-count", markup=False)
        yield KeyedTable(COLUMNS, sort="seq", id="audit-table")
        yield Input(placeholder="actor:alice result:denied words · Enter keeps · Esc clears",
                    id="audit-filter")  # fmt: skip

    def on_mount(self) -> None:
        table = self.query_one(KeyedTable)
        table.sort_by("seq", reverse=True)  # newest first
        table.focus()
        self.query_one("#audit-filter", Input).border_title = "filter audit records"
        self.reload()

    # -- data --------------------------------------------------------------------------------
    @property
    def newest(self) -> int | None:
        return max(self.records) if self.records else None

    @property
    def oldest(self) -> int | None:
        return min(self.records) if self.records else None

    def reload(self) -> None:
        self.run_worker(while_shown(self._load()), exclusive=True, group="audit")

    async def _load(self, older: bool = False) -> None:
        try:
            if self.allowed is None:
                who = await self.poller.session()
                self.allowed = READ in (who.get("permissions") or ())
            if not self.allowed:
                self._deny("your roles do not include audit.read (Auditor or SuperUser)")
                return
            if older and self.oldest is not None:
                since = max(0, self.oldest - 1 - self.page)
                batch = await self.poller.get("/api/v1/audit", since=since, limit=self.page)
            elif self.newest is None:
                batch = await self.poller.get("/api/v1/audit", limit=self.page)
            else:
                batch = await self.poller.get("/api/v1/audit", since=self.newest, limit=10000)
        except ApiError as exc:
            if exc.status == 403:
                self.allowed = False
                self._deny(exc.message)
            elif exc.status:  # status 0 (unreachable) is the banner's job
                self.query_one("#audit-chain", Static).update(exc.message)
            return
        for rec in batch:
            if isinstance(rec.get("seq"), int):
                self.records[rec["seq"]] = rec
        self.show()

    def _deny(self, why: str) -> None:
        self.query_one("#audit-chain", Static).update(f"The audit trail is not shown: {why}.")
        self.query_one(KeyedTable).display = False
        self.refresh_bindings()

    def show(self) -> None:
        ordered = [self.records[s] for s in sorted(self.records)]
        chain = chain_status(ordered)
        line = self.query_one("#audit-chain", Static)
        line.update(chain.text)
        line.set_class(not chain.ok, "-broken")
        shown = {str(r["seq"]): cells(r) for r in ordered if self.filter(r)}
        self.query_one(KeyedTable).sync(shown)
        what = "" if self.filter.empty else f" · {len(shown)} match the filter"
        self.query_one("#audit-count", Static).update(
            f"{len(ordered)} records loaded{what} · newest first · Enter: detail"
        )
        self.refresh_bindings()  # the filter key once allowed; `b` while older ones exist
        self.loads += 1

    # -- keys --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("filter", "older"):
            return bool(self.allowed) and (action != "older" or (self.oldest or 1) > 1)
        return True

    def action_older(self) -> None:
        self.run_worker(while_shown(self._load(older=True)), exclusive=True, group="audit")

    def action_filter(self) -> None:
        box = self.query_one("#audit-filter", Input)
        box.add_class("-shown")
        box.focus()

    def action_back(self) -> None:
        box = self.query_one("#audit-filter", Input)
        if box.has_class("-shown"):
            box.value = ""
            box.remove_class("-shown", "-invalid")
            self.filter = AuditFilter()
            self.show()
            self.query_one(KeyedTable).focus()
        else:
            self.app.pop_screen()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        try:
            self.filter = parse_filter(event.value)
        except AuditFilterError as exc:
            show_problem(event.input, str(exc))
            return
        show_problem(event.input, None)
        self.show()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(KeyedTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        rec = self.records.get(int(str(event.row_key.value)))
        if rec is not None:
            self.app.push_screen(AuditDetail(rec))
