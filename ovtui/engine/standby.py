"""A standby engine: waits for the database's leadership and meanwhile changes nothing.

While another engine is active, this one serves only an API that says so: GET /api/v1/health
answers {"status": "standby", "active": {...}}, anything else 503 naming the active engine.
It asks for the lead every engine.standby_poll_seconds; the active engine's advisory lock
goes when its database session ends (process killed, host gone: keepalives), and the next
try here takes it. Once active, a watchdog checks the fencing token at the same pace; an engine
that lost it stops at once (exit 1: systemd restarts it, as a standby).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ovtui.api.server import ApiServers
from ovtui.config.schema import Config
from ovtui.engine.sd_notify import notify

if TYPE_CHECKING:  # psycopg (~80 ms to import) only for an engine on PostgreSQL
    from ovtui.store.pg_database import PgDatabase

log = logging.getLogger(__name__)


def standby_app(database: PgDatabase) -> FastAPI:
    app = FastAPI(title="ovtui engine (standby)", openapi_url=None, docs_url=None, redoc_url=None)

    def active() -> dict[str, Any]:
        try:
            return database.leader()
        except Exception as exc:  # the database is what a standby reports on: say it is gone
            return {"holder": None, "error": str(exc).strip()}

    @app.get("/api/v1/health")
    async def health() -> dict[str, Any]:
        return {"status": "standby", "engine": database.holder, "active": active()}

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def refused(request: Request, path: str) -> JSONResponse:
        leader = active()
        detail = (
            f"this engine ({database.holder}) is a standby and serves nothing that changes "
            f"state; the active engine is {leader.get('holder') or 'unknown'} (fencing token "
            f"{leader.get('token')}, since {leader.get('since')}): send requests there"
        )
        body = {"status": 503, "message": detail, "kind": "standby", "detail": {"active": leader}}
        return JSONResponse({"error": body}, status_code=503)  # the API's one error shape

    return app


async def wait_to_lead(config: Config, database: PgDatabase, stop: asyncio.Event) -> bool:
    """True once this engine leads; False if asked to stop first."""
    if await asyncio.to_thread(database.try_lead):
        return True
    leader = await asyncio.to_thread(database.leader)
    log.info("standby: %s is the active engine (token %s)", leader["holder"], leader["token"])
    api = ApiServers(standby_app(database), config.api)
    api.bind()
    await api.start()
    notify(f"READY=1\nSTATUS=standby; active engine: {leader['holder']}")
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), config.engine.standby_poll_seconds)
            except TimeoutError:
                pass
            if not stop.is_set() and await asyncio.to_thread(database.try_lead):
                log.warning("standby: taking over as the active engine (token %s)", database.token)
                return True
        return False
    finally:
        await api.stop()


async def watch_leadership(database: PgDatabase, interval: float, lost: asyncio.Event) -> None:
    """Sets `lost` when this engine is fenced off or its database session is gone."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(database.check_leadership)
        except Exception as exc:  # whatever it is (fenced, session gone): stop writing
            log.critical("LEADERSHIP LOST: %s", exc)
            lost.set()
            return
