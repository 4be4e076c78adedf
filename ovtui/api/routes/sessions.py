"""Sign in, who am I, sign out."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from auth.principal import Principal
from ovtui.api.authz import Caller, Public, Require, engine_of, source_of
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.access import SignedIn, SignedOut, WhoAmI
from ovtui.api.schemas.errors import documented
from ovtui.engine.signin import SignInError

router = APIRouter(prefix="/api/v1", tags=["sessions"], route_class=RouterRoute)


class Credentials(BaseModel):
    username: Annotated[str, Field(max_length=256)]
    password: Annotated[str, Field(max_length=1024)]


def _whoami(p: Principal) -> dict[str, Any]:
    """System-wide roles and permissions, plus roles held on single objects (scoped grants)."""
    grants = sorted(p.grants, key=str)
    return {
        "user": p.name,
        "roles": sorted(p.roles),
        "permissions": sorted(p.permissions),
        "grants": [{"role": g.role, "scope": g.scope, "object": g.object} for g in grants],
    }


@router.post(
    "/sessions",
    dependencies=[Depends(Public())],
    summary="Sign in; returns a token",
    **documented(SignedIn, 401),
)
async def login(body: Credentials, request: Request) -> dict[str, Any]:
    engine = engine_of(request)
    try:
        # Off the event loop: scrypt and directory binds take time, and every other client of
        # the engine would wait for them (SignIn is thread-safe: audit, sessions, throttle lock).
        token, principal = await asyncio.to_thread(
            engine.signin.login, body.username, body.password, source_of(request)
        )
    except SignInError as exc:
        raise HTTPException(401, str(exc)) from None
    return {"token": token, **_whoami(principal)}


@router.get(
    "/sessions/current",
    summary="Who is signed in, with roles and permissions",
    **documented(WhoAmI),
)
async def whoami(caller: Annotated[Caller, Depends(Require(None))]) -> dict[str, Any]:
    return _whoami(caller.principal)


@router.delete("/sessions/current", summary="Sign out (revoke this token)", **documented(SignedOut))
async def logout(
    request: Request, caller: Annotated[Caller, Depends(Require(None))]
) -> dict[str, str]:
    engine_of(request).signin.logout(caller.token, caller.principal, caller.source)
    return {"result": "signed out"}
