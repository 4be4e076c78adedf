"""The oVirt-compatible sub-application, mounted at /ovirt-engine, with `<fault>` errors."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from ovtui.api.ovirt import routes_actions, routes_events, routes_reads, routes_sso
from ovtui.api.ovirt.inflight import InFlight
from ovtui.api.ovirt.xml import Xml, fault, reason_of
from ovtui.engine import Engine
from ovtui.fleet.errors import FleetError

PREFIX = "/ovirt-engine"
GZIP_FROM = 8 * 1024  # bytes; smaller answers (faults, single objects) go out as they are
STATUS_OF_KIND = {
    "invalid": 400,
    "conflict": 409,
    "hypervisor": 502,
    "unavailable": 503,
    "timeout": 504,
}  # as the native API


def create_ovirt_app(engine: Engine) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.engine = engine
    app.state.inflight = InFlight.of(engine)
    app.state.started_at = time.time()
    # The SDK asks for gzip. Uncompressed, a large list arrives in many TLS records and the
    # SDK's pycurl loop often waits out its 1 s select() for data curl has already read.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_FROM)
    for module in (routes_sso, routes_reads, routes_actions, routes_events):
        app.include_router(module.router)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Xml:
        detail = str(exc.detail)
        if exc.status_code in (404, 405) and detail in ("Not Found", "Method Not Allowed"):
            what = f"{request.method} {request.url.path}"
            detail = f"{what} is not in ovtui's oVirt API subset (see the README, oVirt tooling)"
        return fault(exc.status_code, reason_of(exc.status_code), detail)

    @app.exception_handler(FleetError)
    async def fleet_error(_r: Request, exc: FleetError) -> Xml:
        status = STATUS_OF_KIND.get(exc.kind, 502)
        return fault(status, reason_of(status), exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(_r: Request, exc: RequestValidationError) -> Xml:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return fault(400, reason_of(400), f"invalid request: {where}")

    return app
