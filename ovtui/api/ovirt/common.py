"""What every oVirt route shares: the engine's pieces it needs, and list query handling."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar
from xml.etree import ElementTree as ET

from fastapi import HTTPException, Request

from ovtui.api.ovirt import search
from ovtui.api.ovirt.inflight import InFlight
from ovtui.api.ovirt.xml import Xml, respond

T = TypeVar("T")


def inflight(request: Request) -> InFlight:
    flights: InFlight = request.app.state.inflight
    return flights


def started_at(request: Request) -> float:
    ts: float = request.app.state.started_at
    return ts


def _flag(request: Request, name: str, default: bool) -> bool:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise HTTPException(400, f"{name}={value!r}: expected true or false")


def max_of(request: Request) -> int | None:
    value = request.query_params.get("max")
    if value is None or value == "":
        return None
    try:
        n = int(value)
    except ValueError:
        raise HTTPException(400, f"max={value!r}: expected a number") from None
    return None if n < 0 else n


def select(request: Request, items: Iterable[T], fields: Mapping[str, search.Field[T]]) -> list[T]:
    """`search`, `case_sensitive` and `max` applied as oVirt does. `all_content` and `follow`
    change nothing here: every answer carries all ovtui has, and links are followed by ID."""
    case = _flag(request, "case_sensitive", True)
    _flag(request, "all_content", False)  # validated only
    try:
        keep = search.matcher(request.query_params.get("search"), fields, case)
    except search.SearchError as exc:
        raise HTTPException(400, str(exc)) from None
    out = [i for i in items if keep(i)]
    limit = max_of(request)
    return out if limit is None else out[:limit]


def listing(tag: str, elements: Iterable[ET.Element]) -> Xml:
    root = ET.Element(tag)
    root.extend(elements)
    return respond(root)


def one(found: Callable[[], ET.Element | None], what: str, ident: str) -> Xml:
    el = found()
    if el is None:
        raise HTTPException(404, f"no {what} with id {ident!r}")
    return respond(el)
