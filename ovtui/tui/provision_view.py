"""The provisioning screen (`:provision`): VMs with clone (`c`), edit (`e`), delete (`D`, its
disks listed in the confirmation) and snapshots (`s`); each key is offered only when the
session's rights hold the permission somewhere (the engine still decides per VM). A client of
the API only."""

from __future__ import annotations

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
from ovtui.tui.rights import Rights
from ovtui.tui.screen_load import while_shown
from ovtui.tui.snapshots_view import SnapshotsScreen

COLUMNS = (
    Col("name", "VM"),
    Col("state", "State"),
    Col("host", "Host"),
    Col("cluster", "Cluster"),
    Col("vcpus", "vCPUs"),
    Col("memory", "Memory MiB"),
)
NEEDS = {"clone": "vm.create", "edit": "vm.create", "delete": "vm.delete"}
NEEDS["snapshots"] = "inventory.read"


def cells(v: dict[str, Any]) -> tuple[str, ...]:
    return (v["name"], v["state"], v["host"], v["cluster"], str(v["vcpus"]),
            str(v["memory_mib"]))  # fmt: skip


def edit_body(values: dict[str, str]) -> dict[str, Any]:
    """PATCH /vms/{vm}: only the fields filled in; ValueError names a wrong one."""
    body: dict[str, Any] = {}
    for key, field in (("vcpus", "vcpus"), ("memory", "memory_mib"), ("priority", "ha_priority")):
        if values.get(key):
            if not values[key].isdigit():
                raise ValueError(f"{key}: a whole number")
            body[field] = int(values[key])
    if values.get("description"):
        body["description"] = values["description"]
    if values.get("ha"):
        body["highly_available"] = values["ha"].lower() in ("y", "yes", "true", "on")
    return body


class ProvisionScreen(FleetScreen):
    DEFAULT_CSS = """
    ProvisionScreen #prov-vms { height: 1fr; }
    ProvisionScreen #prov-said { height: auto; padding: 0 1; border: round $accent; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("c", "clone", "clone", tooltip="clone the selected (shut-off) VM"),
        Binding("e", "edit", "edit", tooltip="vCPUs, memory, description, HA"),
        Binding("D", "delete", "delete", tooltip="delete the selected VM and its disks"),
        Binding("s", "snapshots", "snapshots", tooltip="the selected VM's snapshots"),
    ]
    HELP_TITLE = "provisioning"

    def __init__(self, chrome: Chrome, poller: Poller) -> None:
        super().__init__(chrome)
        self.poller = poller
        self.rights = Rights()
        self.loads = 0

    def body(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, sort="name", id="prov-vms")
        said = Static("loading…", id="prov-said", markup=False)
        said.border_title = "last action"
        yield said

    def on_mount(self) -> None:
        self.query_one("#prov-vms", KeyedTable).focus()
        self.reload()

    def reload(self) -> None:
        self.run_worker(while_shown(self._load()), exclusive=True, group="provision")

    async def _load(self) -> None:
        try:
            who = await self.poller.session()
            vms = await self.poller.get("/api/v1/vms")
        except ApiError as exc:
            if exc.status:
                self.say(exc.message)
            return
        self.rights = Rights.from_whoami(who)
        self.query_one("#prov-vms", KeyedTable).sync({v["name"]: cells(v) for v in vms})
        if self.loads == 0:
            self.say("c clone · e edit · D delete · s snapshots")
        self.loads += 1
        self.refresh_bindings()

    def say(self, text: str) -> None:
        self.query_one("#prov-said", Static).update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needs = NEEDS.get(action)
        return needs is None or self.rights.somewhere(needs)

    def selected(self) -> str | None:
        table = self.query_one("#prov-vms", KeyedTable)
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

    def action_clone(self) -> None:
        vm = self.selected()
        if vm is None:
            return

        def got(values: dict[str, str] | None) -> None:
            if values and values["name"]:
                body = {"name": values["name"]}
                self.run_worker(self._call("POST", f"/api/v1/vms/{vm}/clone", body))

        form = FieldsForm(f"Clone {vm}", [("name", "the clone's name", f"{vm}-clone")], "Clone")
        self.app.push_screen(form, got)

    def action_edit(self) -> None:
        vm = self.selected()
        if vm is None:
            return
        fields = [("vcpus", "vCPUs", ""), ("memory", "memory MiB", ""),
                  ("description", "description", ""), ("ha", "highly available? yes/no", ""),
                  ("priority", "HA priority 0-100", "")]  # fmt: skip

        def got(values: dict[str, str] | None) -> None:
            if not values:
                return
            try:
                body = edit_body(values)
            except ValueError as exc:
                self.say(str(exc))
                return
            self.run_worker(self._call("PATCH", f"/api/v1/vms/{vm}", body))

        self.app.push_screen(FieldsForm(f"Edit {vm} (empty: unchanged)", fields, "Apply"), got)

    def action_delete(self) -> None:
        vm = self.selected()
        if vm is not None:
            self.run_worker(self._ask_delete(vm))

    async def _ask_delete(self, vm: str) -> None:
        try:
            disks = await self.poller.get(f"/api/v1/vms/{vm}/disks")
        except ApiError as exc:
            self.say(exc.message)
            return
        listed = ", ".join(f"{d['target']} {d['source']}" for d in disks) or "no disks"
        question = f"Delete {vm} and its disks ({listed})?"

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._call("DELETE", f"/api/v1/vms/{vm}?disks=true"))

        self.app.push_screen(ConfirmScreen(question), answered)

    def action_snapshots(self) -> None:
        vm = self.selected()
        if vm is not None:
            allowed = self.rights.somewhere("vm.snapshot")
            self.app.push_screen(SnapshotsScreen(self.chrome, self.poller, vm, allowed))
