"""Every refused or failed request that reached a route is one audit record, written here.

One place for all routes, so a new route is covered without a line of its own: this ASGI
middleware sees the final status of each request. A request that matched a route and ends in a
4xx (except 405: no route for that method) or 5xx, and that wrote no audit record of its own
(Require's "denied", Engine.perform's "failed", sign-in refusals), gets one: actor = the caller
(from Require, or the request's token), action = "METHOD /route/template", target = the path,
result "denied" (401, 403) or "refused" (other 4xx) or "failed" (5xx), detail = the error
message the caller was given. Requests of callers not signed in go through auth.refusal_limit;
what it drops is counted in ovtui_audit_unauthenticated_dropped_total. Bodies are never
recorded (a sign-in body holds a password); a presented token only as a digest prefix.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth import audit
from ovtui.api.authz import Caller, bearer_token
from ovtui.engine import Engine

log = logging.getLogger(__name__)
ANONYMOUS = "(not signed in)"
BODY_KEPT = 64 * 1024  # error bodies are small; past this the message is not looked for


class RefusalAuditMiddleware:
    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app, self.engine = app, engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []  # an error response's start and body, until it is audited
        status, sent = 0, False  # sent: the response has started going out
        with audit.watching() as written:

            async def forward(message: Message) -> None:
                nonlocal sent
                sent = True
                await send(message)

            async def send_after_audit(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    if status >= 400:
                        held.append(message)  # sent once the refusal is on record
                        return
                elif held:
                    held.append(message)
                    if message.get("more_body") and _size(held) < BODY_KEPT:
                        return
                    self._audit(scope, status, written, _message_of(held))
                    for m in held:
                        await forward(m)
                    held.clear()
                    return
                await forward(message)

            try:
                await self.app(scope, receive, send_after_audit)
            except Exception as exc:
                if not sent:  # the server answers 500 after us
                    self._audit(scope, 500, written, f"internal error: {type(exc).__name__}")
                raise

    def _audit(self, scope: Scope, status: int, written: list[Any], message: str) -> None:
        route = scope.get("route")
        if written or route is None or status == 405 or status < 400:
            return  # audited by the action itself, no route matched, or not a refusal
        try:
            self._record(scope, status, getattr(route, "path", "?"), message)
        except Exception:  # never turn a refusal into a 500; the record is what failed
            log.exception("could not audit a refused request (status %s)", status)

    def _record(self, scope: Scope, status: int, route: str, message: str) -> None:
        engine = self.engine
        token = bearer_token(_header(scope, b"authorization"))
        caller: Caller | None = scope.get("state", {}).get("caller")
        principal = (
            caller.principal if caller else (engine.sessions.lookup(token) if token else None)
        )
        client = scope.get("client")
        source = f"{client[0]}:{client[1]}" if client and client[0] else "unix-socket"
        params: dict[str, Any] = {"status": status}
        if principal is None:
            if token:  # which bad token: tells one replayed token from a guessing flood
                params["token_sha256"] = hashlib.sha256(token.encode()).hexdigest()[:16]
            dropped = engine.refusal_limit.admit(source)
            if dropped is None:
                engine.metrics.audit.dropped.inc()
                return
            if dropped:
                params["dropped_before"] = dropped  # this source's refusals not written
        result = "denied" if status in (401, 403) else "failed" if status >= 500 else "refused"
        engine.audit.record(
            actor=principal.name if principal else ANONYMOUS,
            actor_source=principal.source if principal else "",
            action=f"{scope.get('method', '')} {route}",
            target=str(scope.get("path", "")),
            result=result,
            params=params,
            source=source,
            detail=message,
        )


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def _size(held: list[Message]) -> int:
    return sum(len(m.get("body", b"")) for m in held)


def _message_of(held: list[Message]) -> str:
    body = b"".join(m.get("body", b"") for m in held)
    try:
        error = json.loads(body).get("error", {})
        return str(error.get("message", ""))[:1000]
    except (ValueError, AttributeError):
        return body[:200].decode(errors="replace")
