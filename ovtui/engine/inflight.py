"""Migrations under way, recorded in the store before they start: what the next engine settles.

Every migration the engine drives (an operator's, a maintenance evacuation's, a plan step's, HA
resiliency's) is written to table "migrations_in_flight" before libvirt is asked and removed
when the call returns. On PostgreSQL that write is fenced: a deposed engine cannot start one.
An engine that dies mid-way (kill -9, takeover) leaves the record; the next engine to start
settles each one by the libvirt facts (ovtui/fleet/leftover.py: moved, or stayed with a copy
paused by the aborted migration resumed), audits what it found (vm.migration_settled) and
removes the record. It never migrates again: whoever asked may ask again (a plan does, after
re-checking its premises).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from tinydb import where

from ovtui.fleet import leftover
from ovtui.fleet.errors import FleetError
from ovtui.model import VM, HostState

if TYPE_CHECKING:
    from ovtui.engine.core import Engine

log = logging.getLogger(__name__)
TABLE = "migrations_in_flight"
ACTOR = "system:engine"


def begin(engine: Engine, vm: VM, target: str, actor: str) -> None:
    record = {"uuid": vm.uuid, "vm": vm.name, "source": vm.host, "target": target,
              "actor": actor, "at": time.time(), "token": engine.lead_token()}  # fmt: skip
    engine.store.table(TABLE).upsert(record, where("uuid") == vm.uuid)


def end(engine: Engine, uuid: str) -> None:
    engine.store.table(TABLE).remove(where("uuid") == uuid)


async def settle_all(engine: Engine) -> None:
    records = [dict(r) for r in engine.store.table(TABLE).all()]
    if not records:
        return
    timeout = engine.config.engine.migration_timeout_seconds
    await engine.fleet.wait_connected(timeout)
    for rec in records:
        params = {"uuid": rec["uuid"], "to": rec["target"], "asked_by": rec["actor"],
                  "token": rec.get("token")}  # fmt: skip
        try:
            outcome, detail = await _settle(engine, rec, timeout)
            result = "ok"
        except FleetError as exc:
            outcome, detail, result = "unknown", exc.message, "failed"
        log.warning("migration of %s left by an engine that stopped: %s", rec["vm"], detail)
        engine.audit.record(
            actor=ACTOR,
            actor_source="system",
            action="vm.migration_settled",
            target=f"vm/{rec['vm']}@{rec['source']}",
            params={**params, "outcome": outcome},
            result=result,
            source="takeover",
            detail=detail,
        )
        end(engine, rec["uuid"])


async def _settle(engine: Engine, rec: dict[str, Any], timeout: float) -> tuple[str, str]:
    links = engine.fleet.links
    src, dst = links.get(rec["source"]), links.get(rec["target"])
    if src is None or dst is None:
        raise FleetError(f"{rec['source']} or {rec['target']} is no longer in the config")
    deadline = time.monotonic() + timeout
    while src.state != HostState.UP or dst.state != HostState.UP:
        if time.monotonic() > deadline:
            raise FleetError(f"{src.name} or {dst.name} did not answer: settle {rec['vm']} by hand")
        await asyncio.sleep(0.5)
    outcome = await leftover.settle(src, dst, rec["uuid"], rec["vm"], timeout)
    await engine.fleet.refresh_now(src.name, dst.name)
    return outcome
