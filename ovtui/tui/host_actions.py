"""Host maintenance on and off: who may, the question, and progress while the host empties.

Entering maintenance migrates every VM off the host first (POST .../maintenance returns when
the host is empty and flagged, or when a move failed); meanwhile each poll says how many VMs
are still on it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.message import Message

from ovtui.client import ApiError, AsyncClient
from ovtui.tui.activity import Activity
from ovtui.tui.confirm import ConfirmScreen
from ovtui.tui.fmt import vm_count
from ovtui.tui.rights import Rights
from ovtui.tui.rows import FleetData, HostRow
from ovtui.tui.vm_actions import Outcome

HOST_MANAGE = "host.manage"
HOST_FENCE = "host.fence"

HOST_ACTION_BINDINGS = [
    Binding("M", "host('maintenance')", "maint", tooltip="maintenance: move its VMs off, flag"),
    Binding("A", "host('activate')", "activate", tooltip="activate: back from maintenance"),
    Binding("F", "host('fence')", "fence", tooltip="fence: power off, confirm, power on (BMC)"),
    Binding(
        "C",
        "host('confirm-rebooted')",
        "confirm reboot",
        tooltip="confirm a non-responsive host has been rebooted: its HA VMs restart",
    ),
]


def host_action_allowed(
    action: str, parameters: tuple[object, ...], rights: Rights, host: HostRow | None
) -> bool:
    """Offered only where it applies: maintenance on an active host, activate on one in it."""
    if action != "host" or not parameters:
        return True
    if host is not None and parameters[0] in ("fence", "confirm-rebooted"):
        if not rights.on_host(HOST_FENCE, host):
            return False
        if parameters[0] == "fence":
            return host.power_management
        return host.state == "non_responsive"
    if host is None or not rights.on_host(HOST_MANAGE, host):
        return False
    return host.maintenance == (parameters[0] == "activate")


class HostActionRequested(Message):
    def __init__(self, host: HostRow, action: str) -> None:
        super().__init__()
        self.host, self.action = host, action


@dataclass
class _Running:
    token: int
    host: str
    action: str


class HostActionRunner:
    def __init__(
        self,
        app: App[Any],
        client: AsyncClient,
        fleet: Callable[[], FleetData],
        activity: Activity,
        changed: Callable[[], None],
        user: Callable[[], str],
    ) -> None:
        self.app, self.client, self.fleet, self.user = app, client, fleet, user
        self.activity, self.changed = activity, changed
        self.history: list[Outcome] = []  # newest last
        self._running: dict[str, _Running] = {}
        self._tokens = itertools.count(2_000_000)

    def request(self, host: HostRow, action: str) -> None:
        self.app.run_worker(self._interactive(host, action), group="host-actions")

    async def _interactive(self, host: HostRow, action: str) -> None:
        if host.name in self._running:
            self.app.notify(f"{host.name}: an action is already under way", severity="warning")
            return
        if not await self.app.push_screen_wait(ConfirmScreen(self._question(host, action))):
            return
        await self.perform(host.name, action)

    def _question(self, host: HostRow, action: str) -> str:
        if action == "fence":
            return (
                f"Fence {host.name}?\nIts BMC powers it off (every VM on it stops at once), "
                "confirms it is off, and powers it on again. Its HA VMs restart elsewhere."
            )
        if action == "confirm-rebooted":
            return (
                f"Confirm {host.name} has been rebooted?\nOnly if you made sure it is off or "
                "was restarted: its HA VMs will be started on other hosts, and a VM still "
                "running on it would then run twice."
            )
        if action == "activate":
            return (
                f"Activate {host.name}?\nIt becomes a migration target again; "
                "policies may move VMs onto it."
            )
        vms = [v for v in self.fleet().vms_on(host.name) if v.active]
        return (
            f"Put {host.name} into maintenance?\n{vm_count(len(vms))} running on it will be "
            f"migrated to other hosts of {host.cluster} first; this can take a while. If one "
            "cannot be moved, the host stays active."
        )

    async def perform(self, host: str, action: str) -> Outcome:
        run = self._running[host] = _Running(next(self._tokens), host, action)
        self.activity.start(run.token, self._progress(run))
        self.changed()
        try:
            if action == "maintenance":
                body = {"reason": f"from the dashboard by {self.user()}"}
                result = await self.client.post(f"/api/v1/hosts/{host}/maintenance", body)
                moved = len(result.get("moved", ()))
                done = result.get("result", "done")
                outcome = Outcome(True, f"{host}: {done}, {vm_count(moved)} moved")
            elif action in ("fence", "confirm-rebooted"):
                result = await self.client.post(f"/api/v1/hosts/{host}/{action}")
                outcome = Outcome(True, str(result.get("result", "done")))
            else:
                result = await self.client.post(f"/api/v1/hosts/{host}/activate")
                outcome = Outcome(True, f"{host}: {result.get('result', 'activated')}")
        except ApiError as exc:
            prefix = "not allowed: " if exc.status == 403 else ""
            outcome = Outcome(False, prefix + exc.message, exc.status)
        finally:
            del self._running[host]
        self.history.append(outcome)
        self.activity.finish(run.token, outcome.text, outcome.ok)
        self.app.notify(
            outcome.text,
            title="" if outcome.ok else f"{action} {host} failed ({outcome.status})",
            severity="information" if outcome.ok else "error",
            timeout=8 if outcome.ok else 15,
            markup=False,
        )
        self.changed()
        return outcome

    def polled(self) -> None:
        """After each fleet poll: how far each evacuation has come."""
        for run in self._running.values():
            self.activity.start(run.token, self._progress(run))

    def _progress(self, run: _Running) -> str:
        if run.action == "activate":
            return f"activating {run.host}…"
        if run.action == "fence":
            return f"fencing {run.host} through its BMC…"
        if run.action == "confirm-rebooted":
            return f"confirming {run.host} was rebooted…"
        left = sum(1 for v in self.fleet().vms_on(run.host) if v.active)
        return f"evacuating {run.host} for maintenance: {vm_count(left)} still on it…"
