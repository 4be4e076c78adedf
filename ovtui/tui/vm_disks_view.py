"""A VM's disks (opened from its detail screen with `D`): each with its storage domain, format,
size and allocation, and a progress bar while one moves. Keys, offered with disk.manage on the
VM: add (`a`: make a disk on a domain and attach it), extend (`e`: grow), move (`m`: to another
domain, live if the VM runs), detach (`d`), delete (`x`: detach, then delete the volume). All
goes through the API (the TUI is its client); what the API refuses is shown as it says it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ovtui.client import ApiError
from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.confirm import ConfirmScreen
from ovtui.tui.fields_form import FieldsForm
from ovtui.tui.keyed_table import KeyedTable
from ovtui.tui.poller import Poller
from ovtui.tui.screen_load import while_shown
from ovtui.tui.storage_rows import size
from ovtui.tui.vm_disk_rows import (
    COLUMNS,
    cells,
    create_body,
    move_body,
    moves_of,
    parse_size,
    running_move,
)

ACTIONS = ("add", "grow", "move", "detach", "delete")
RELEASE_POLLS, RELEASE_POLL_SECONDS = 60, 0.5  # how long a guest may take to let a disk go


class VmDisksScreen(FleetScreen):
    DEFAULT_CSS = """
    VmDisksScreen #vm-disks { height: 1fr; }
    VmDisksScreen #vm-disk-moves { height: auto; padding: 0 1; border: round $accent; }
    VmDisksScreen #vm-disks-said { height: auto; padding: 0 1; border: round $accent; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "back"),
        Binding("a", "add", "add", tooltip="make a disk on a storage domain and attach it"),
        Binding("e", "grow", "extend", tooltip="grow the selected disk (live if the VM runs)"),
        Binding("m", "move", "move", tooltip="move the selected disk to another storage domain"),
        Binding(
            "d", "detach", "detach", tooltip="detach the selected disk (it stays on its domain)"
        ),
        Binding("x", "delete", "delete", tooltip="detach the selected disk and delete it"),
    ]
    HELP_TITLE = "VM disks"

    def __init__(self, chrome: Chrome, poller: Poller, vm: str, uuid: str, allowed: bool) -> None:
        super().__init__(chrome)
        self.poller, self.vm, self.uuid, self.allowed = poller, vm, uuid, allowed
        self.disks: dict[str, dict[str, Any]] = {}
        self.moves: list[dict[str, Any]] = []
        self.domains: list[str] = []
        self.loads = 0
        self.busy = 0  # requests of this screen still out (a move waits until it is done)

    def body(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, id="vm-disks")
        moves = Static("", id="vm-disk-moves", markup=False)
        moves.border_title = "disk moves"
        yield moves
        said = Static("loading…", id="vm-disks-said", markup=False)
        said.border_title = f"disks of {self.vm}"
        yield said

    def on_mount(self) -> None:
        self.query_one("#vm-disks", KeyedTable).focus()
        self.reload()

    def reload(self) -> None:
        self.run_worker(while_shown(self._load()), exclusive=True, group="vm-disks")

    async def _load(self) -> None:
        try:
            disks, moves, domains = await asyncio.gather(
                self.poller.get(f"/api/v1/vms/{self.uuid}/disks"),
                self.poller.get("/api/v1/disk-moves"),
                self.poller.get("/api/v1/storage"),
            )
        except ApiError as exc:
            if exc.status:  # status 0 (unreachable) is the banner's job
                self.say(exc.message)
            return
        self.disks = {d["target"]: d for d in disks}
        self.moves, self.domains = moves, [d["name"] for d in domains]
        rows = {t: cells(d, running_move(moves, self.uuid, t)) for t, d in self.disks.items()}
        self.query_one("#vm-disks", KeyedTable).sync(rows)
        self.query_one("#vm-disk-moves", Static).update(moves_of(moves, self.uuid))
        if self.loads == 0:
            self.say(f"{len(disks)} disk(s); storage domains: {', '.join(self.domains) or 'none'}")
        self.loads += 1

    def say(self, text: str) -> None:
        self.query_one("#vm-disks-said", Static).update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.allowed or action not in ACTIONS

    def selected(self) -> dict[str, Any] | None:
        key = self.query_one("#vm-disks", KeyedTable).cursor_key
        disk = self.disks.get(key) if key else None
        if disk is None:
            self.say("no disk selected")
        return disk

    def _managed(self, disk: dict[str, Any]) -> bool:
        if disk["domain"] and disk["volume"]:
            return True
        self.say(f"{disk['target']} ({disk['source']}) is not on an ovtui storage domain")
        return False

    # -- calling the API ----------------------------------------------------------------------
    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> str:
        """One request; shows what it did (and its warnings) or its refusal, which it returns
        ("" when it was done)."""
        self.busy += 1
        try:
            out = await self.poller.client.request(method, path, json=body)
        except ApiError as exc:
            refusal = f"refused: {exc.message}" if exc.status else exc.message
            self.say(refusal)
            return refusal
        finally:
            self.busy -= 1
            self.reload()
        out = out if isinstance(out, dict) else {}
        warnings = [f"warning: {w}" for w in out.get("warnings") or ()]
        self.say("; ".join([str(out.get("result", "done")), *warnings]))
        return ""

    def _form(self, title: str, fields: list[tuple[str, str, str]], ok: str, then: Any) -> None:
        def got(values: dict[str, str] | None) -> None:
            if values is None:
                return
            try:
                then(values)
            except ValueError as exc:
                self.say(str(exc))

        self.app.push_screen(FieldsForm(title, fields, ok), got)

    def _confirmed(self, question: str, work: Any) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(work(), group="vm-disk-action")

        self.app.push_screen(ConfirmScreen(question), answered)

    # -- actions ---------------------------------------------------------------------------
    def action_add(self) -> None:
        first = self.domains[0] if self.domains else ""
        fields = [
            ("domain", f"storage domain ({', '.join(self.domains)})", first),
            ("name", "disk name", ""),
            ("size", "size (e.g. 2G, 512M)", "1G"),
            ("format", "format: qcow2 or raw", "qcow2"),
            ("allocation", "allocation: thin or preallocated", "thin"),
        ]

        def go(values: dict[str, str]) -> None:
            body = create_body(values)
            self.run_worker(self._add(values["domain"], body), group="vm-disk-action")

        self._form(f"New disk for {self.vm}", fields, "Create and attach", go)

    async def _add(self, domain: str, body: dict[str, Any]) -> None:
        if await self._call("POST", f"/api/v1/storage/{domain}/disks", body):
            return
        attach = {"storage": domain, "disk": body["name"]}
        refused = await self._call("POST", f"/api/v1/vms/{self.uuid}/disks", attach)
        if not refused:
            return
        # nothing half-made: a disk made for this VM that could not be attached goes again
        try:
            await self.poller.client.request(
                "DELETE", f"/api/v1/storage/{domain}/disks/{body['name']}"
            )
            self.say(f"{refused}; the new disk {body['name']} was deleted again")
        except ApiError as exc:
            self.say(f"{refused}; the new disk {body['name']} stays on {domain}: {exc.message}")

    def action_grow(self) -> None:
        disk = self.selected()
        if disk is None or not self._managed(disk):
            return
        now = disk["capacity_bytes"] or 0

        def go(values: dict[str, str]) -> None:
            new = parse_size(values["size"])
            if new <= now:
                raise ValueError(f"{disk['target']} is {size(now)}: a disk only grows")
            path = f"/api/v1/storage/{disk['domain']}/disks/{disk['volume']}/grow"
            question = f"Grow {self.vm}'s {disk['target']} from {size(now)} to {size(new)}?"
            self._confirmed(question, lambda: self._call("POST", path, {"size_bytes": new}))

        fields = [("size", f"new size (now {size(now)})", "")]
        self._form(f"Grow {disk['target']} of {self.vm}", fields, "Grow", go)

    def action_move(self) -> None:
        disk = self.selected()
        if disk is None or not self._managed(disk):
            return
        others = [d for d in self.domains if d != disk["domain"]]
        fields = [
            ("storage", f"to storage domain ({', '.join(others) or 'no other'})", ""),
            ("volume", "target LUN, for an iSCSI domain (unit:0:0:N)", ""),
            ("bandwidth", "limit, MiB/s (0: none)", "0"),
        ]

        def go(values: dict[str, str]) -> None:
            body = move_body(values)
            path = f"/api/v1/vms/{self.uuid}/disks/{disk['target']}/move"
            question = (
                f"Move {self.vm}'s {disk['target']} from {disk['domain']} to {body['storage']}?"
            )
            self._confirmed(question, lambda: self._move(path, body))

        self._form(f"Move {disk['target']} of {self.vm}", fields, "Move", go)

    async def _move(self, path: str, body: dict[str, Any]) -> None:
        self.say(f"moving to {body['storage']}… (progress below)")
        await self._call("POST", path, body)

    def action_detach(self) -> None:
        disk = self.selected()
        if disk is None:
            return
        path = f"/api/v1/vms/{self.uuid}/disks/{disk['target']}"
        question = f"Detach {disk['target']} from {self.vm}? (the disk stays on its domain)"
        self._confirmed(question, lambda: self._call("DELETE", path))

    def action_delete(self) -> None:
        disk = self.selected()
        if disk is None or not self._managed(disk):
            return
        question = (
            f"Detach {disk['target']} from {self.vm} and DELETE {disk['volume']} from "
            f"{disk['domain']}? Its data is lost."
        )
        self._confirmed(question, lambda: self._delete(disk))

    async def _delete(self, disk: dict[str, Any]) -> None:
        if await self._call("DELETE", f"/api/v1/vms/{self.uuid}/disks/{disk['target']}"):
            return
        # A running guest releases a detached disk in its own time: the volume is deleted
        # once the VM no longer lists it (the API refuses to delete a disk in use).
        for _ in range(RELEASE_POLLS):
            try:
                disks = await self.poller.get(f"/api/v1/vms/{self.uuid}/disks")
            except ApiError:
                break  # the delete then says what the API makes of it
            if all(d["target"] != disk["target"] for d in disks):
                break
            await asyncio.sleep(RELEASE_POLL_SECONDS)
        await self._call("DELETE", f"/api/v1/storage/{disk['domain']}/disks/{disk['volume']}")
