"""An encoded slash in the path is a name that cannot exist: 404, never another route's answer.

Starlette routes on the decoded path, so `GET /api/v1/policies/prod-a%2Fplan` would reach the
plan route and `GET /api/v1/vms/a%2Fstart` a POST-only route (405). No name ovtui serves can
contain "/" (config names, libvirt domain names, grant ids), so such a request names nothing.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class EncodedSlashGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") or b""
        if scope["type"] == "http" and b"%2f" in raw.lower():
            message = "no such object: names never contain '/' (the path has an encoded slash, %2F)"
            body = {"error": {"status": 404, "message": message}}
            await JSONResponse(body, 404)(scope, receive, send)
            return
        await self.app(scope, receive, send)
