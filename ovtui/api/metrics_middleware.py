"""Counts and times every API request by route template (not raw path), method and status.

A plain ASGI middleware: it sees the final status after the exception handlers ran, and an
exception that escapes them is counted as 500. The route template comes from the route Starlette
matched (``/api/v1/vms/{vm}``), so paths never become labels; unmatched requests share one label.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collectors.api_metrics import UNMATCHED, ApiMetrics

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        observed = False
        began = time.perf_counter()

        def observe() -> None:
            nonlocal observed
            observed = True
            self.metrics.in_flight.dec()
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = scope.get("method", "")
            method = method if method in METHODS else "other"
            self.metrics.observe(route, method, status, time.perf_counter() - began)

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Counted before the last byte leaves: a client that has its answer and then
                # scrapes /metrics finds its request counted.
                observe()
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            if not observed:
                observe()
