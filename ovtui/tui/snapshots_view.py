"""A VM's snapshots (opened from `:provision` with `s`): take (`t`), revert (`r`), delete
(`x`), each offered only with vm.snapshot on the VM, the last two after a confirmation."""

from __future__ import annotations

import time
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ovtui.client import ApiError
from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.confirm import ConfirmScreen
from ovtui.tui.fields_form import FieldsForm
from ovtui.tui.keyed_table import Col, KeyedTable
from ovtui.tui.poller import Poller
from ovtui.tui.screen_load import while_shown

COLUMNS = (
    Col("name", "Snapshot"),
    Col("taken", "Taken"),
    Col("state", "VM state"),
    Col("memory", "Memory"),
    Col("current", "Current"),
    Col("description", "Description"),
)


def cells(s: dict[str, Any]) -> tuple[str, ...]:
    taken = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s["created_at"]))
    return (s["name"], taken, s["vm_state"], "yes" if s["memory"] else "no",
            "*" if s["current"] else "", s["description"])  # fmt: skip


class SnapshotsScreen(FleetScreen):
    DEFAULT_CSS = """
    SnapshotsScreen #snapshots { height: 1fr; }
    SnapshotsScreen #snapshots-said { height: auto; padding: 0 1; border: round $accent; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("t", "take", "take", tooltip="take a snapshot (memory: yes for a running VM)"),
        Binding("r", "revert", "revert", tooltip="revert the VM to the selected snapshot"),
        Binding("x", "delete", "delete", tooltip="delete the selected snapshot"),
    ]
    HELP_TITLE = "snapshots"

    def __init__(self, chrome: Chrome, poller: Poller, vm: str, allowed: bool) -> None:
        super().__init__(chrome)
        self.poller, self.vm, self.allowed = poller, vm, allowed
        self.loads = 0

    def body(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="snapshots")
        said = Static("loading…", id="snapshots-said", markup=False)
        said.border_title = f"snapshots of {self.vm}"
        yield said

    def on_mount(self) -> None:
        self.query_one("#snapshots", KeyedTable).focus()
        self.reload()

    def reload(self) -> None:
        self.run_worker(while_shown(self._load()), exclusive=True, group="snapshots")

    async def _load(self) -> None:
        try:
            rows = await self.poller.get(f"/api/v1/vms/{self.vm}/snapshots")
        except ApiError as exc:
            if exc.status:
                self.say(exc.message)
            return
        self.query_one("#snapshots", KeyedTable).sync({s["name"]: cells(s) for s in rows})
        if self.loads == 0:
            self.say(f"{len(rows)} snapshot(s)")
        self.loads += 1

    def say(self, text: str) -> None:
        self.query_one("#snapshots-said", Static).update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.allowed or action not in ("take", "revert", "delete")

    def selected(self) -> str | None:
        table = self.query_one("#snapshots", KeyedTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        try:
            out = await self.poller.client.request(method, path, json=body)
        except ApiError as exc:
            self.say(exc.message)
            return
        self.say(out["result"])
        self.reload()

    def action_take(self) -> None:
        fields = [("name", "snapshot name", ""), ("memory", "memory too? yes/no", "no"),
                  ("description", "description", "")]  # fmt: skip

        def got(values: dict[str, str] | None) -> None:
            if values:
                body = {"name": values["name"], "description": values["description"],
                        "memory": values["memory"].lower() in ("y", "yes", "true")}  # fmt: skip
                self.run_worker(self._call("POST", f"/api/v1/vms/{self.vm}/snapshots", body))

        self.app.push_screen(FieldsForm(f"Snapshot of {self.vm}", fields, "Take"), got)

    def _confirmed(self, question: str, method: str, path: str) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._call(method, path))

        self.app.push_screen(ConfirmScreen(question), answered)

    def action_revert(self) -> None:
        name = self.selected()
        if name:
            path = f"/api/v1/vms/{self.vm}/snapshots/{name}/revert"
            self._confirmed(f"Revert {self.vm} to snapshot {name}?", "POST", path)

    def action_delete(self) -> None:
        name = self.selected()
        if name:
            path = f"/api/v1/vms/{self.vm}/snapshots/{name}"
            self._confirmed(f"Delete snapshot {name} of {self.vm}?", "DELETE", path)
