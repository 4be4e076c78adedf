"""Host maintenance: plan the evacuation first, move nothing unless every VM has a place.

The host stops being a migration target the moment maintenance starts; if any move fails the
host returns to service and the operator gets the list of what failed and why.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ovtui.fleet.errors import FleetError
from ovtui.model import HostState
from policies.evacuation import evacuation_plan
from policies.plan import Move

if TYPE_CHECKING:
    from ovtui.engine.core import Engine

MIGRATIONS_AT_ONCE = 2

Migrate = Callable[[Move], Awaitable[dict[str, Any]]]


async def enter(
    engine: Engine, host: str, reason: str, actor: str, migrate: Migrate
) -> dict[str, Any]:
    snap = engine.snapshot()
    current = snap.host(host)
    assert current is not None  # the API resolved it
    if current.maintenance:
        return {"host": host, "result": "already in maintenance", "moved": []}
    if current.state not in (HostState.UP, HostState.NON_OPERATIONAL):
        raise FleetError(
            f"{host} is {current.state.value} ({current.state_reason}): its VMs cannot be moved "
            "off it; bring it back or handle it as a failed host",
            kind="conflict",
            host=host,
        )
    moves, stuck = evacuation_plan(snap, host)
    if stuck:
        raise FleetError(
            f"{host} cannot enter maintenance, nothing was moved: "
            + "; ".join(s.reason for s in stuck)
            + ". Stop, unpin or make room for these VMs first",
            kind="conflict",
            host=host,
        )
    _set(engine, host, maintenance=True, reason=reason, by=actor, since=time.time())
    gate = asyncio.Semaphore(MIGRATIONS_AT_ONCE)

    async def one(move: Move) -> dict[str, Any]:
        async with gate:
            return await migrate(move)

    results = await asyncio.gather(*(one(m) for m in moves), return_exceptions=True)
    failed = [(m, r) for m, r in zip(moves, results, strict=True) if isinstance(r, BaseException)]
    if failed:
        _set(engine, host, maintenance=False, reason="", by=actor, since=time.time())
        detail = "; ".join(f"{m.vm_name}: {getattr(r, 'message', r)}" for m, r in failed)
        raise FleetError(
            f"{host} stays active: {len(failed)} of {len(moves)} VMs could not be moved ({detail})",
            kind="conflict",
            host=host,
        )
    return {
        "host": host,
        "result": "in maintenance",
        "moved": [{"vm": m.vm_name, "target": m.target, "reason": m.reason} for m in moves],
    }


def leave(engine: Engine, host: str, actor: str) -> dict[str, Any]:
    was = bool(engine.store.host_state(host).get("maintenance"))
    _set(engine, host, maintenance=False, reason="", by=actor, since=time.time())
    return {"host": host, "result": "activated" if was else "was not in maintenance"}


def _set(engine: Engine, host: str, **fields: Any) -> None:
    engine.store.set_host_state(host, **fields)
    engine.fleet.invalidate(host)
    what = "maintenance" if fields["maintenance"] else "active"
    engine.events.append({"kind": "host", "host": host, "what": what, "detail": fields["reason"]})
