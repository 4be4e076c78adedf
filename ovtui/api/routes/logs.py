"""Events, migration history and the audit trail (append-only logs), oldest first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from auth.permissions import Permission
from ovtui.api.authz import Require, engine_of
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.errors import documented
from ovtui.api.schemas.logs import AuditRecord, EventRecord, MigrationRecord
from ovtui.api.serialize import JSON
from ovtui.store.state import Log

router = APIRouter(
    prefix="/api/v1", tags=["logs"], default_response_class=JSON, route_class=RouterRoute
)
Limit = Annotated[int, Query(ge=1, le=10000)]
Since = Annotated[int | None, Query(description="only records with seq greater than this")]
SCAN = 10000  # a filtered look-back reads at most this many recent records


def _select(
    log: Log,
    since: int | None,
    limit: int,
    match: Callable[[dict[str, Any]], bool] | None = None,
    **want: str | None,
) -> JSON:
    def keep(rec: dict[str, Any]) -> bool:
        exact = all(v is None or rec.get(k) == v for k, v in want.items())
        return exact and (match is None or match(rec))

    pred: Callable[[dict[str, Any]], bool] | None = (
        keep if any(want.values()) or match is not None else None
    )
    if since is not None:
        return JSON(log.read(since_seq=since, limit=limit, predicate=pred))
    if pred is None:
        return JSON(log.tail(limit))
    return JSON([r for r in log.tail(SCAN) if pred(r)][-limit:])


@router.get(
    "/events",
    dependencies=[Depends(Require(Permission.EVENTS_READ, target="system"))],
    summary="Events (VM lifecycle, host states, migrations), oldest first",
    **documented(list[EventRecord]),
)
async def events(
    request: Request,
    since: Since = None,
    limit: Limit = 200,
    host: str | None = None,
    vm: str | None = None,
    kind: str | None = None,
) -> JSON:
    return _select(engine_of(request).events, since, limit, host=host, vm=vm, kind=kind)


@router.get(
    "/migrations",
    dependencies=[Depends(Require(Permission.EVENTS_READ, target="system"))],
    summary="Migration history, oldest first",
    **documented(list[MigrationRecord]),
)
async def migrations(
    request: Request, since: Since = None, limit: Limit = 200, vm: str | None = None
) -> JSON:
    return _select(engine_of(request).migrations, since, limit, vm=vm)


@router.get(
    "/audit",
    dependencies=[Depends(Require(Permission.AUDIT_READ, target="system"))],
    summary="The audit trail, oldest first (each record chained to the one before)",
    **documented(list[AuditRecord]),
)
async def audit(
    request: Request,
    since: Since = None,
    limit: Limit = 200,
    actor: str | None = None,
    action: str | None = None,
    target: Annotated[str | None, Query(description="substring of the target")] = None,
    since_ts: Annotated[datetime | None, Query(description="ISO 8601; naive = UTC")] = None,
    until_ts: Annotated[datetime | None, Query(description="ISO 8601; naive = UTC")] = None,
) -> JSON:
    match = _audit_match(target, since_ts, until_ts)
    log = engine_of(request).audit_log
    return _select(log, since, limit, match, actor=actor, action=action)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _audit_match(
    target: str | None, since_ts: datetime | None, until_ts: datetime | None
) -> Callable[[dict[str, Any]], bool] | None:
    if target is None and since_ts is None and until_ts is None:
        return None
    lo = _utc(since_ts) if since_ts else None
    hi = _utc(until_ts) if until_ts else None

    def match(rec: dict[str, Any]) -> bool:
        if target is not None and target not in str(rec.get("target", "")):
            return False
        if lo is None and hi is None:
            return True
        try:
            ts = _utc(datetime.fromisoformat(str(rec.get("ts"))))
        except ValueError:
            return False
        return (lo is None or ts >= lo) and (hi is None or ts <= hi)

    return match
