"""GET /events, newest first as in oVirt: `max`, `from` (index), and `search` on type (code),
severity, host.name and vm.name. ovtui's events carry oVirt codes only where one means the same
(migration done/failed); the rest have code 0 and a description that says what happened."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, HTTPException, Request

from auth.permissions import Permission
from ovtui.api.authz import engine_of
from ovtui.api.ovirt import search
from ovtui.api.ovirt.authz import require
from ovtui.api.ovirt.common import listing, max_of
from ovtui.api.ovirt.entities import host_id
from ovtui.api.ovirt.xml import Xml, entity, link, respond, sub
from ovtui.api.routes.route_class import RouterRoute

router = APIRouter(
    prefix="/api",
    dependencies=[Depends(require(Permission.EVENTS_READ, "system"))],
    route_class=RouterRoute,
)
SCAN = 10000  # a search looks back this many events at most (as the native /events)
VM_MIGRATION_DONE, VM_MIGRATION_FAILED = 63, 65


def _code(rec: dict[str, Any]) -> int:
    if rec.get("kind") == "migration":
        return VM_MIGRATION_FAILED if "failed" in str(rec.get("what", "")) else VM_MIGRATION_DONE
    return 0


def _severity(rec: dict[str, Any]) -> str:
    what = f"{rec.get('what', '')} {rec.get('detail', '')}"
    return "warning" if "fail" in what or "non_responsive" in what else "normal"


def _description(rec: dict[str, Any]) -> str:
    parts = [rec.get("kind", ""), rec.get("vm") or rec.get("host") or "", rec.get("what", "")]
    text = " ".join(str(p) for p in parts if p)
    return f"{text}: {rec['detail']}" if rec.get("detail") else text


FIELDS: dict[str, search.Field[dict[str, Any]]] = {
    "type": lambda r: str(_code(r)),
    "severity": _severity,
    "host.name": lambda r: r.get("host"),
    "vm.name": lambda r: r.get("vm"),
}


def event_xml(rec: dict[str, Any]) -> ET.Element:
    el = entity("event", "events", str(rec["seq"]))
    sub(el, "index", rec["seq"])
    sub(el, "code", _code(rec))
    sub(el, "description", _description(rec))
    sub(el, "severity", _severity(rec))
    sub(el, "origin", "ovtui")
    ts = str(rec.get("ts", ""))
    if ts:
        sub(el, "time", datetime.fromisoformat(ts.replace("Z", "+00:00")).isoformat())
    if rec.get("host"):
        link(el, "host", "hosts", host_id(str(rec["host"])))
    if rec.get("uuid"):
        link(el, "vm", "vms", str(rec["uuid"]))
    return el


def _records(request: Request) -> list[dict[str, Any]]:
    events = engine_of(request).events
    since = request.query_params.get("from")
    if since:
        try:
            start = int(since)
        except ValueError:
            raise HTTPException(400, f"from={since!r}: expected an event index") from None
        return events.read(since_seq=start, limit=SCAN)
    return events.tail(SCAN)


@router.get("/events")
async def events(request: Request) -> Xml:
    try:
        keep = search.matcher(request.query_params.get("search"), FIELDS)
    except search.SearchError as exc:
        raise HTTPException(400, str(exc)) from None
    newest_first = [r for r in reversed(_records(request)) if keep(r)]
    limit = max_of(request)
    return listing(
        "events", map(event_xml, newest_first if limit is None else newest_first[:limit])
    )


@router.get("/events/{id}")
async def event(request: Request, id: str) -> Xml:
    try:
        seq = int(id)
    except ValueError:
        raise HTTPException(404, f"no event with id {id!r}") from None
    found = engine_of(request).events.read(since_seq=seq - 1, limit=1)
    if not found or found[0]["seq"] != seq:
        raise HTTPException(404, f"no event with id {id!r}")
    return respond(event_xml(found[0]))
