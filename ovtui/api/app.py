"""Builds the FastAPI application around an Engine, with errors that say what to do."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from ovtui import __version__
from ovtui.api import openapi
from ovtui.api.metrics_middleware import MetricsMiddleware
from ovtui.api.path_guard import EncodedSlashGuard
from ovtui.api.refusal_audit import RefusalAuditMiddleware
from ovtui.api.routes import (
    disks,
    grants,
    ha,
    hosts,
    inventory,
    logs,
    networks,
    nics,
    provision,
    sessions,
    snapshots,
    storage,
    templates,
    vms,
)
from ovtui.api.routes import policies as policy_routes
from ovtui.api.vm_changes import VmChanges
from ovtui.engine import Engine
from ovtui.fleet.errors import FleetError

STATUS_OF_KIND = {
    "invalid": 400,
    "not_found": 404,  # a named object (a disk, a storage domain) does not exist
    "conflict": 409,
    "hypervisor": 502,
    "unavailable": 503,
    "timeout": 504,
}


def _error(status: int, message: str, extra: dict[str, object] | None = None) -> JSONResponse:
    return JSONResponse({"error": {**(extra or {}), "status": status, "message": message}}, status)


def create_app(engine: Engine) -> FastAPI:
    app = FastAPI(
        title="ovtui engine API",
        version=__version__,
        description="Inventory, VM actions, events and audit. Sign in with POST /api/v1/sessions "
        "and send the token as 'Authorization: Bearer TOKEN'.",
        docs_url=None,  # the Swagger UI loads assets from the internet; /openapi.json is served
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.vm_changes = VmChanges()  # GET /api/v1/vms?since=
    app.add_middleware(EncodedSlashGuard)  # inside the metrics: its 404s are counted too
    app.add_middleware(MetricsMiddleware, metrics=engine.metrics.api)
    app.add_middleware(RefusalAuditMiddleware, engine=engine)  # refusals and failures audited
    # provision and templates before vms: /vms/{vm}/clone|template before /vms/{vm}/{action}
    # nics before vms: /vms/{vm}/nics/... before /vms/{vm}/{action}
    routers = [sessions, inventory, ha, nics, disks, provision, templates, snapshots, vms, hosts]
    routers += [logs, grants, networks, storage]
    for module in routers:
        app.include_router(module.router)
    app.include_router(policy_routes.router)
    openapi.install(app)
    if engine.config.api.ovirt.enabled:  # its own app: XML, <fault> errors, not in /openapi.json
        from ovtui.api.ovirt.app import PREFIX, create_ovirt_app

        app.mount(PREFIX, create_ovirt_app(engine))

    @app.exception_handler(FleetError)
    async def fleet_error(_r: Request, exc: FleetError) -> JSONResponse:
        return _error(STATUS_OF_KIND.get(exc.kind, 502), exc.message, dict(exc.as_dict()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_r: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            problems.append(f"{where}: {err['msg']}")
        return _error(422, "invalid request: " + "; ".join(problems))

    return app
