"""VM actions: which exist, who may run them, and how one runs (confirm, progress, outcome)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.message import Message

from ovtui.client import ApiError, AsyncClient
from ovtui.tui.activity import Activity
from ovtui.tui.confirm import ConfirmScreen
from ovtui.tui.migrate_picker import MigratePicker
from ovtui.tui.rights import Rights
from ovtui.tui.rows import FleetData, VmRow

POWER, MIGRATE = "vm.power", "vm.migrate"


@dataclass(frozen=True, slots=True)
class ActionSpec:
    api: str  # path segment: POST /api/v1/vms/{vm}/{api}
    verb: str  # "power off"
    doing: str  # "powering off"
    done: str  # "powered off"
    permission: str
    confirm: bool


ACTIONS = {
    "start": ActionSpec("start", "start", "starting", "started", POWER, False),
    "shutdown": ActionSpec("shutdown", "shut down", "shutting down", "shut down", POWER, True),
    "poweroff": ActionSpec("poweroff", "power off", "powering off", "powered off", POWER, True),
    "reboot": ActionSpec("reboot", "reboot", "rebooting", "rebooted", POWER, True),
    "suspend": ActionSpec("suspend", "suspend", "suspending", "suspended", POWER, False),
    "resume": ActionSpec("resume", "resume", "resuming", "resumed", POWER, False),
    "migrate": ActionSpec("migrate", "migrate", "migrating", "migrated", MIGRATE, True),
}
PERMISSION_OF_KEY = {**{k: s.permission for k, s in ACTIONS.items()}, "pause": POWER}

# Parametrised so one check_action covers them all; "pause" toggles suspend/resume.
# Footer labels are short (80 columns); the tooltip is what `?` help shows.
VM_ACTION_BINDINGS = [
    Binding("s", "vm('start')", "start", tooltip="start the VM"),
    Binding("d", "vm('shutdown')", "shutdown", tooltip="shut down (ACPI, asks the guest)"),
    Binding("x", "vm('poweroff')", "off", tooltip="power off at once (forced, no guest shutdown)"),
    Binding("r", "vm('reboot')", "reboot", tooltip="reboot the VM"),
    Binding("p", "vm('pause')", "pause", tooltip="suspend the VM, or resume it if paused"),
    Binding("m", "vm('migrate')", "migrate", tooltip="migrate to another host of its cluster"),
]


def action_allowed(
    action: str, parameters: tuple[object, ...], rights: Rights, targets: Sequence[VmRow]
) -> bool:
    """For check_action: False hides the key from the footer and disables it.

    Offered when the operator may do it on one of the targets (the cursor's VM, or the
    selection), system-wide or by a grant on the VM, its host, cluster or data center.
    """
    if action != "vm" or not parameters:
        return True
    permission = PERMISSION_OF_KEY.get(str(parameters[0]), "?")
    if not targets:
        return rights.somewhere(permission)
    return any(rights.on_vm(permission, vm) for vm in targets)


def resolve(vm: VmRow, action: str) -> str:
    """'pause' is a toggle: suspend a running VM, resume a paused one."""
    if action == "pause":
        return "resume" if vm.paused else "suspend"
    return action


class VmActionRequested(Message):
    def __init__(self, vm: VmRow, action: str) -> None:
        super().__init__()
        self.vm, self.action = vm, action


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    text: str
    status: int = 200


class VmActionRunner:
    """Runs actions in workers: the interface keeps refreshing while the engine works."""

    def __init__(
        self,
        app: App[Any],
        client: AsyncClient,
        fleet: Callable[[], FleetData],
        activity: Activity,
        changed: Callable[[], None],
    ) -> None:
        self.app, self.client, self.fleet = app, client, fleet
        # changed(): redraw activity lines and poll now, so tables show the new state at once.
        self.activity, self.changed = activity, changed
        self.history: list[Outcome] = []  # newest last
        self._busy: set[str] = set()
        self._tokens = itertools.count()

    def request(self, vm: VmRow, action: str) -> None:
        action = resolve(vm, action)
        self.app.run_worker(self._interactive(vm, action), group="vm-actions")

    async def _interactive(self, vm: VmRow, action: str) -> None:
        spec = ACTIONS[action]
        if vm.uuid in self._busy:
            self.app.notify(f"{vm.name}: an action is already under way", severity="warning")
            return
        target: str | None = None
        if action == "migrate":
            target = await self._pick_target(vm)
            if target is None:
                return
        if spec.confirm and not await self.app.push_screen_wait(
            ConfirmScreen(self._question(vm, spec, target))
        ):
            return
        await self.perform(vm, action, target)

    async def _pick_target(self, vm: VmRow) -> str | None:
        # The engine refuses these anyway; saying so before the picker saves a round trip.
        why = (
            f"{vm.name} is pinned to {vm.host}; unpin it before moving it"
            if vm.pinned
            else f"{vm.name} is marked non-migratable"
            if not vm.migratable
            else None
        )
        fleet = self.fleet()
        if why is None and not fleet.migration_targets(vm):
            why = f"no other host of cluster {vm.cluster} is up"
        if why:
            self.app.notify(why, title=f"cannot migrate {vm.name}", severity="warning")
            return None
        picked: str | None = await self.app.push_screen_wait(MigratePicker(vm, fleet))
        return picked

    def _question(self, vm: VmRow, spec: ActionSpec, target: str | None) -> str:
        if target is None:
            return f"{spec.verb.capitalize()} {vm.name} on {vm.host}?"
        # As the engine decides: live only when both ends can; a stopped VM just moves.
        ends = [self.fleet().host(name) for name in (vm.host, target)]
        cold = vm.active and any(h is not None and not h.live_migration for h in ends)
        note = "\n(cold migration: these hosts cannot migrate live; the VM restarts)"
        return f"Migrate {vm.name} from {vm.host} to {target}?{note if cold else ''}"

    async def perform(self, vm: VmRow, action: str, target: str | None = None) -> Outcome:
        """The action itself, without questions; also what a forced call exercises."""
        spec = ACTIONS[action]
        doing = f"{spec.doing} {vm.name}" + (f" to {target}" if target else "") + "…"
        token = next(self._tokens)
        self._busy.add(vm.uuid)
        self.activity.start(token, doing)
        self.changed()
        self.app.notify(doing, timeout=3, markup=False)
        try:
            outcome = await call(self.client, vm, action, target)
        finally:
            self._busy.discard(vm.uuid)
        self.history.append(outcome)
        self.activity.finish(token, outcome.text, outcome.ok)
        self.app.notify(
            outcome.text,
            title="" if outcome.ok else _failure_title(spec, vm, outcome.status),
            severity="information" if outcome.ok else "error",
            timeout=6 if outcome.ok else 12,
            markup=False,
        )
        self.changed()
        return outcome


async def call(client: AsyncClient, vm: VmRow, action: str, target: str | None = None) -> Outcome:
    """One action through the API; waits for the engine's outcome, which it describes."""
    spec = ACTIONS[action]
    body = {"target": target} if target else None
    try:
        result = await client.post(f"/api/v1/vms/{vm.uuid}/{spec.api}", body)
    except ApiError as exc:
        return Outcome(False, _failure(vm, spec, exc), exc.status)
    return Outcome(True, _success(vm, spec, result))


def _success(vm: VmRow, spec: ActionSpec, result: dict[str, Any]) -> str:
    took = float(result.get("seconds") or 0)
    seconds = f" in {took:.1f} s" if took >= 0.05 else ""
    if spec.api == "migrate":
        text = f"{vm.name} {result.get('result', 'moved')}: {result.get('source', vm.host)} → "
        text += f"{result.get('target', '?')}{seconds}"
        return text + (f" — {result['note']}" if result.get("note") else "")
    result_text = str(result.get("result", "done"))
    detail = "" if result_text == "done" else f" ({result_text})"
    return f"{vm.name}: {spec.done}{detail}{seconds}"


def _failure(vm: VmRow, spec: ActionSpec, exc: ApiError) -> str:
    # The engine's messages already name the action, the VM and the host: shown verbatim.
    if exc.status == 403:
        return f"not allowed: {exc.message}"
    return exc.message or f"{spec.verb} {vm.name} failed"


def _failure_title(spec: ActionSpec, vm: VmRow, status: int) -> str:
    if status == 403:
        return f"{spec.verb} {vm.name}: permission denied (403)"
    if status == 0:
        return "engine unreachable"
    return f"{spec.verb} {vm.name} failed ({status})"
