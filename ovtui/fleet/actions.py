"""VM actions and migrations: run on the right host, wait for the outcome, report it plainly."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from ovtui.fleet import migration_ops, vm_ops
from ovtui.fleet.errors import FleetError
from ovtui.fleet.fleet import Fleet
from ovtui.fleet.migration_checks import refusal
from ovtui.model import ACTIVE_VM_STATES, VM, VmState

# The states in which each action makes sense; a failure while the VM is in another state is a
# conflict (409), whatever error code the driver chose (the test driver says "internal error").
_VALID_FROM: dict[str, frozenset[VmState]] = {
    "start": frozenset({VmState.SHUTOFF, VmState.CRASHED}),
    "shutdown": frozenset({VmState.RUNNING, VmState.BLOCKED, VmState.PAUSED}),
    "poweroff": ACTIVE_VM_STATES | {VmState.CRASHED},
    "reboot": frozenset({VmState.RUNNING, VmState.BLOCKED}),
    "suspend": frozenset({VmState.RUNNING, VmState.BLOCKED}),
    "resume": frozenset({VmState.PAUSED}),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    vm: str
    uuid: str
    host: str
    action: str
    result: str
    seconds: float
    extra: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "vm": self.vm,
            "uuid": self.uuid,
            "host": self.host,
            "action": self.action,
            "result": self.result,
            "seconds": round(self.seconds, 3),
            **self.extra,
        }


async def vm_action(fleet: Fleet, vm: VM, action: str) -> Outcome:
    if action not in vm_ops.VM_ACTIONS:
        raise FleetError(
            f"unknown action {action!r} (valid: {', '.join(vm_ops.VM_ACTIONS)})", kind="invalid"
        )
    move = fleet.moving(vm.uuid)
    if move is not None:
        raise FleetError(
            f"{action} {vm.name} refused: it is migrating from {move.vm.host} to "
            f"{move.target}; wait until the move ends",
            kind="conflict",
            host=vm.host,
            vm=vm.name,
        )
    link = fleet.links[vm.host]
    began = time.monotonic()
    try:
        await link.call(vm_ops.action(action, vm.uuid), action=action, vm=vm.name)
        result = "done"
        if action == "shutdown":
            result = await _wait_shutoff(fleet, vm)
    except FleetError as exc:
        if exc.kind == "hypervisor" and await _state_forbids(fleet, vm, action):
            exc.kind = "conflict"
        raise
    finally:
        await fleet.refresh_now(vm.host)
    return Outcome(vm.name, vm.uuid, vm.host, action, result, time.monotonic() - began, {})


async def _state_forbids(fleet: Fleet, vm: VM, action: str) -> bool:
    try:
        state = await fleet.links[vm.host].call(vm_ops.state_of(vm.uuid), action="read", vm=vm.name)
    except FleetError:
        return False
    return state not in _VALID_FROM[action]


async def _wait_shutoff(fleet: Fleet, vm: VM) -> str:
    link = fleet.links[vm.host]
    timeout = fleet.config.engine.shutdown_timeout_seconds
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = await link.call(vm_ops.state_of(vm.uuid), action="shutdown", vm=vm.name)
        if state == VmState.SHUTOFF:
            return "shut off"
        await asyncio.sleep(0.5)
    raise FleetError(
        f"{vm.name} on {vm.host} did not shut down within {timeout:g} s (the guest may ignore "
        "ACPI power-button requests); it is still running; use poweroff to force it off",
        kind="timeout",
        host=vm.host,
        vm=vm.name,
    )


async def migrate(fleet: Fleet, vm: VM, target: str) -> Outcome:
    snap = fleet.snapshot()
    why = refusal(snap, vm, target)
    if why:
        raise FleetError(
            f"migrate {vm.name} refused: {why}", kind="conflict", host=vm.host, vm=vm.name
        )
    source, dest = fleet.links[vm.host], fleet.links[target]
    if dest.conn is None:
        raise FleetError(f"target {target} is not connected", kind="unavailable", host=target)
    timeout = fleet.config.engine.migration_timeout_seconds
    if not vm.active:
        mode, op = "offline", migration_ops.offline(vm.uuid, dest.conn)
    elif source.live_migration and dest.live_migration:
        shared = fleet.disks_shared(vm)
        mode, op = "live", migration_ops.live(vm.uuid, dest.conn, dest.cfg.migration_uri, shared)
    else:
        mode, op = "cold", migration_ops.cold(vm.uuid, dest.conn)
    fleet.begin_move(vm, target, mode)
    began = time.monotonic()
    try:
        figures = await source.call(
            op,
            action=f"{mode} migration to {target} of",
            vm=vm.name,
            timeout=timeout,
            hung_means_lost=False,
        )
    except FleetError as exc:
        if exc.kind == "timeout" and mode == "live":
            await _abort_quietly(fleet, vm)
        exc.message = f"{exc.message} ({vm.name} stays on {vm.host})"
        raise
    finally:
        fleet.end_move(vm.uuid)
        await fleet.refresh_now(vm.host, target)
    extra: dict[str, Any] = {"source": vm.host, "target": target, "mode": mode, **figures}
    if mode == "cold":
        extra["note"] = "cold migration: the driver cannot migrate live, so the VM was restarted"
    return Outcome(
        vm.name, vm.uuid, target, "migrate", f"moved ({mode})", time.monotonic() - began, extra
    )


async def _abort_quietly(fleet: Fleet, vm: VM) -> None:
    link = fleet.links[vm.host]
    if link.conn is not None:
        try:
            await link.call(migration_ops.abort_job(vm.uuid), action="abort migration", vm=vm.name)
        except FleetError:
            pass
