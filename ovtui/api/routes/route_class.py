"""The routers' route class: documented response models become pydantic fields only where used.

A route's `responses={code: {"model": M}}` (schemas/errors.py `documented`) makes FastAPI build
one pydantic field per documented response when the route is created: ~220 of them, ~55 ms of
the engine's start-up before its API answers. FastAPI >= 0.120 builds every route of an
included router again, lazily, from `responses`, and serves and documents that copy (requests
and /openapi.json both go through fastapi.routing.iter_route_contexts); the router's own copy,
built at import, is never used. So the router's copy is built without the models and keeps
`responses` as declared for the app's copy. Older FastAPI copies routes into the app with this
class too and documents those: there the models stay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastapi.routing
from fastapi.routing import APIRoute

LAZY_INCLUSION = hasattr(fastapi.routing, "iter_route_contexts")


class RouterRoute(APIRoute):
    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        responses: dict[int | str, dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        if not LAZY_INCLUSION or not responses:
            super().__init__(path, endpoint, responses=responses, **kwargs)
            return
        bare = {code: {k: v for k, v in r.items() if k != "model"} for code, r in responses.items()}
        super().__init__(path, endpoint, responses=bare, **kwargs)
        self.responses = responses  # what the app's copy is built from
