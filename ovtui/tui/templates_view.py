"""The templates screen (`:templates`): templates with their disks and VMs; `n` opens the new-VM
form (with vm.create), `x` deletes the selected template (with template.manage), after a
confirmation. A client of the API only: rights come from GET /sessions/current."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ovtui.client import ApiError
from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.confirm import ConfirmScreen
from ovtui.tui.keyed_table import Col, KeyedTable
from ovtui.tui.new_vm_form import NewVmForm
from ovtui.tui.poller import Poller
from ovtui.tui.rights import Rights
from ovtui.tui.screen_load import while_shown

COLUMNS = (
    Col("name", "Template"),
    Col("dc", "DC"),
    Col("disks", "Disks"),
    Col("from", "From VM"),
    Col("vms", "VMs (thin)"),
    Col("description", "Description"),
)
NEEDS = {"new_vm": "vm.create", "delete": "template.manage"}


def cells(t: dict[str, Any]) -> tuple[str, ...]:
    disks = ", ".join(f"{d['domain']}/{d['volume']}" for d in t["disks"]) or "-"
    vms = f"{len(t['vms'])} ({len(t['thin_vms'])})"
    return (t["name"], t["datacenter"] or "*", disks, t["source_vm"] or "-", vms,
            t["description"])  # fmt: skip


class TemplatesScreen(FleetScreen):
    DEFAULT_CSS = """
    TemplatesScreen #templates { height: 1fr; }
    TemplatesScreen #templates-said { height: auto; padding: 0 1; border: round $accent; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "back", tooltip="back to the dashboard"),
        Binding("n", "new_vm", "new VM", tooltip="create a VM from the selected template"),
        Binding("x", "delete", "delete", tooltip="delete the selected template"),
    ]
    HELP_TITLE = "templates"

    def __init__(self, chrome: Chrome, poller: Poller) -> None:
        super().__init__(chrome)
        self.poller = poller
        self.rights = Rights()
        self.clusters: list[str] = []
        self.loads = 0  # completed loads; tests wait on it

    def body(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, sort="name", id="templates")
        said = Static("loading…", id="templates-said", markup=False)
        said.border_title = "last action"
        yield said

    def on_mount(self) -> None:
        self.query_one("#templates", KeyedTable).focus()
        self.reload()

    def reload(self) -> None:
        self.run_worker(while_shown(self._load()), exclusive=True, group="templates")

    async def _load(self) -> None:
        try:
            who = await self.poller.session()
            rows = await self.poller.get("/api/v1/templates")
            clusters = await self.poller.get("/api/v1/clusters")
        except ApiError as exc:
            if exc.status:
                self.say(exc.message)
            return
        self.rights = Rights.from_whoami(who)
        self.clusters = [c["name"] for c in clusters]
        self.query_one("#templates", KeyedTable).sync({t["name"]: cells(t) for t in rows})
        if self.loads == 0:
            self.say("n: new VM from the selected template · x: delete it")
        self.loads += 1
        self.refresh_bindings()

    def say(self, text: str) -> None:
        self.query_one("#templates-said", Static).update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        needs = NEEDS.get(action)
        return needs is None or self.rights.somewhere(needs)

    def selected(self) -> str | None:
        table = self.query_one("#templates", KeyedTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    def action_new_vm(self) -> None:
        cluster = self.clusters[0] if self.clusters else ""
        self.app.push_screen(NewVmForm(cluster, self.selected() or "Blank"), self._create)

    def _create(self, body: dict[str, Any] | None) -> None:
        if body is not None:
            self.run_worker(self._post_create(body), group="templates-act")

    async def _post_create(self, body: dict[str, Any]) -> None:
        cluster = body.pop("cluster")
        try:
            out = await self.poller.client.post(f"/api/v1/clusters/{cluster}/vms", body)
        except ApiError as exc:
            self.say(f"create {body['name']}: {exc.message}")
            return
        self.say(f"{out['result']} — {out['placement']}")
        self.reload()

    def action_delete(self) -> None:
        name = self.selected()
        if name is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._delete(name), group="templates-act")

        self.app.push_screen(ConfirmScreen(f"Delete template {name} and its volumes?"), answered)

    async def _delete(self, name: str) -> None:
        try:
            out = await self.poller.client.request("DELETE", f"/api/v1/templates/{name}")
        except ApiError as exc:
            self.say(exc.message)
            return
        self.say(out["result"])
        self.reload()
