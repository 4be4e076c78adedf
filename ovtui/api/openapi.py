"""/openapi.json: FastAPI's document plus what follows from each route's declarations.

The errors a route can answer are derived from what it declares, so a new route is documented
truthfully without anyone remembering to: Require(...) means a bearer token (401) and, with a
permission, a possible refusal (403); a path parameter means 404 (and 409 for a VM named
ambiguously); any parameter or body means 422, and a body also 400 (bytes that do not
decode). Every error body is ErrorBody, 422 included (FastAPI's own `{"detail": [...]}` is
never sent: ovtui.api.app turns it into ErrorBody).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from ovtui.api.authz import Require
from ovtui.api.schemas.errors import WHY, ErrorBody

BEARER = "bearer"
_REF = "#/components/schemas/{model}"
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": _REF.format(model="ErrorBody")}}}


def _dependencies(dep: Dependant) -> Iterator[Dependant]:
    for sub in dep.dependencies:
        yield sub
        yield from _dependencies(sub)


def implied_errors(route: Any) -> tuple[set[int], bool]:
    """The error statuses the route's declarations imply, and whether it needs a token."""
    codes: set[int] = set()
    signed_in = False
    for dep in _dependencies(route.dependant):
        if isinstance(dep.call, Require):
            signed_in = True
            codes.add(401)
            if dep.call.permission is not None:
                codes.add(403)
            if dep.call.target is not None:
                codes.add(404)
    params = route.dependant
    if params.path_params:
        codes.add(404)
    if any(p.name == "vm" for p in params.path_params):
        codes.add(409)
    if params.path_params or params.query_params or params.body_params:
        codes.add(422)
    if params.body_params:
        codes.add(400)  # FastAPI: a body that is not even text ("error parsing the body")
    return codes, signed_in


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """APIRoutes as served (FastAPI >= 0.120 keeps included routers lazy: flatten them, with
    router-level dependencies merged in; older versions list APIRoutes in app.routes)."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    if flatten is None:
        found: list[Any] = [r for r in app.routes if isinstance(r, APIRoute)]
    else:
        found = [c for c in flatten(app.routes) if isinstance(c.original_route, APIRoute)]
    yield from (r for r in found if r.include_in_schema)


def build_document(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template=_REF)
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorBody"] = error_schema
    components["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "description": "a token from POST /api/v1/sessions (or `ovtui login`)",
        }
    }
    for route in _api_routes(app):
        codes, signed_in = implied_errors(route)
        for method in route.methods:
            operation = doc["paths"][route.path_format][method.lower()]
            responses = operation.setdefault("responses", {})
            # FastAPI's own 422 ({"detail": [...]}) is replaced too: that body is never sent.
            for code in codes | ({422} if "422" in responses else set()):
                responses[str(code)] = {"description": WHY[code], "content": _ERROR_CONTENT}
            if signed_in:
                operation["security"] = [{BEARER: []}]
    for name in _FASTAPI_422:
        schemas.pop(name, None)
    return doc


def install(app: FastAPI) -> None:
    """Serves the derived document at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
