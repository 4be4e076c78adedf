"""Events, migration history and the audit trail (append-only logs), oldest first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from auth.permissions import Permission
from ovtui.api.authz import Require, engine_of
from ovtui.api.serialize import JSON
from ovtui.store import JsonlLog

router = APIRouter(prefix="/api/v1", tags=["logs"], default_response_class=JSON)
Limit = Annotated[int, Query(ge=1, le=10000)]
Since = Annotated[int | None, Query(description="only records with seq greater than this")]
SCAN = 10000  # a filtered look-back reads at most this many recent records


def _select(log: JsonlLog, since: int | None, limit: int, **want: str | None) -> JSON:
    def keep(rec: dict[str, Any]) -> bool:
        return all(v is None or rec.get(k) == v for k, v in want.items())

    pred: Callable[[dict[str, Any]], bool] | None = keep if any(want.values()) else None
    if since is not None:
        return JSON(log.read(since_seq=since, limit=limit, predicate=pred))
    if pred is None:
        return JSON(log.tail(limit))
    return JSON([r for r in log.tail(SCAN) if pred(r)][-limit:])


@router.get("/events", dependencies=[Depends(Require(Permission.EVENTS_READ))])
async def events(
    request: Request,
    since: Since = None,
    limit: Limit = 200,
    host: str | None = None,
    vm: str | None = None,
    kind: str | None = None,
) -> JSON:
    return _select(engine_of(request).events, since, limit, host=host, vm=vm, kind=kind)


@router.get("/migrations", dependencies=[Depends(Require(Permission.EVENTS_READ))])
async def migrations(
    request: Request, since: Since = None, limit: Limit = 200, vm: str | None = None
) -> JSON:
    return _select(engine_of(request).migrations, since, limit, vm=vm)


@router.get("/audit", dependencies=[Depends(Require(Permission.AUDIT_READ))])
async def audit(
    request: Request,
    since: Since = None,
    limit: Limit = 200,
    actor: str | None = None,
    action: str | None = None,
) -> JSON:
    return _select(engine_of(request).audit_log, since, limit, actor=actor, action=action)
