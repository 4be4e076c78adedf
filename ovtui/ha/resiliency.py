"""Carrying out the resiliency policy: the VMs of non-operational hosts are live-migrated away
(policies/resiliency.py decides which and where). A host is looked at again every RETRY seconds
while it stays non-operational with VMs the policy moves; migrations go through the engine's
audited migrate, one host at a time."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ovtui.fleet.errors import FleetError
from ovtui.model import VM, HostState, Snapshot
from policies.resiliency import resiliency_plan

log = logging.getLogger(__name__)
RETRY = 60.0
Migrate = Callable[[VM, str], Awaitable[dict[str, Any]]]


class Resiliency:
    def __init__(self, migrate: Migrate, on_line: Callable[[list[str]], None]) -> None:
        self._migrate, self._on_line = migrate, on_line
        self._last: dict[str, float] = {}

    async def step(self, snap: Snapshot, now: float) -> None:
        for host in snap.hosts:
            if host.state != HostState.NON_OPERATIONAL:
                self._last.pop(host.name, None)
                continue
            if now - self._last.get(host.name, -RETRY) < RETRY:
                continue
            self._last[host.name] = now
            moves, stuck = resiliency_plan(snap, host.name)
            for s in stuck:
                self._on_line([f"vm {s.vm_name}: stays on non-operational {host.name}: {s.reason}"])
            for move in moves:
                vm = snap.vm(move.vm_uuid)
                if vm is None:
                    continue
                self._on_line([f"vm {move.vm_name}: resiliency: to {move.target}: {move.reason}"])
                try:
                    await self._migrate(vm, move.target)
                except FleetError as exc:
                    self._on_line(
                        [f"vm {move.vm_name}: resiliency migration failed: {exc.message}"]
                    )
