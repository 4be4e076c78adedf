"""Documented response models are built into pydantic fields where FastAPI uses them, once.

ovtui/api/routes/route_class.py: a router's own routes (built at import, ~220 fields and ~55 ms
of the engine's start-up) carry no response fields; the app's copies (served and documented)
carry one per documented model, so /openapi.json still describes every response body.
"""

from __future__ import annotations

import importlib
import pkgutil

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

import ovtui.api.ovirt
import ovtui.api.routes
from ovtui.api.routes.route_class import LAZY_INCLUSION

MODULES = [
    f"{pkg.__name__}.{m.name}"
    for pkg in (ovtui.api.routes, ovtui.api.ovirt)
    for m in pkgutil.iter_modules(pkg.__path__)
    if m.name.startswith("routes") or pkg is ovtui.api.routes
]
ROUTERS = [
    (name, mod.router)
    for name in MODULES
    if hasattr(mod := importlib.import_module(name), "router")
]
pytestmark = pytest.mark.skipif(not LAZY_INCLUSION, reason="FastAPI < 0.120 copies routes")


def _documented(route: APIRoute) -> set[int | str]:
    return {code for code, r in route.responses.items() if r.get("model")}


def test_every_router_uses_the_route_class_and_builds_no_response_field_at_import() -> None:
    assert len(ROUTERS) >= 15
    for name, router in ROUTERS:
        routes = [r for r in router.routes if isinstance(r, APIRoute)]
        assert routes, name
        for route in routes:
            assert route.response_fields == {}, f"{name} {route.path}: fields built at import"


def test_the_served_routes_carry_a_field_for_every_documented_model() -> None:
    app = FastAPI()
    for _name, router in ROUTERS:
        app.include_router(router)
    served = [
        c
        for c in fastapi.routing.iter_route_contexts(app.routes)
        if isinstance(c.original_route, APIRoute)
    ]
    assert len(served) == sum(
        len([r for r in router.routes if isinstance(r, APIRoute)]) for _n, router in ROUTERS
    )
    documented = 0
    for ctx in served:
        codes = _documented(ctx.original_route)
        assert set(ctx.response_fields) == codes, ctx.original_route.path
        documented += len(codes)
    assert documented > 100
