"""oVirt SSO: POST /sso/oauth/token (password grant) and /services/sso-logout, in JSON.

A token is an ovtui session (the same sign-in, throttle, audit and lifetime as `ovtui login`);
the oVirt user name maps to an ovtui sign-in name through `[api.ovirt]` (profiles, users).
"""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse

from ovtui.api.authz import Public, engine_of, source_of
from ovtui.api.routes.route_class import RouterRoute
from ovtui.engine.signin import SignInError

router = APIRouter(dependencies=[Depends(Public())], route_class=RouterRoute)


async def _form(request: Request) -> dict[str, str]:
    fields = dict(request.query_params)
    fields.update(parse_qsl((await request.body()).decode("utf-8", "replace")))
    return fields


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "error_code": code}, status)


@router.post("/sso/oauth/token")
async def token(request: Request) -> JSONResponse:
    form = await _form(request)
    if form.get("grant_type") != "password":
        return _error(
            400,
            "unsupported_grant_type",
            f"grant_type {form.get('grant_type')!r} is not supported: use grant_type=password",
        )
    engine = engine_of(request)
    ovirt_name = form.get("username", "")
    name = engine.config.api.ovirt.signin_name(ovirt_name)
    if name is None:
        profiles = ", ".join(engine.config.api.ovirt.profiles)
        return _error(
            400,
            "access_denied",
            f"{ovirt_name!r}: unknown profile (this engine signs in NAME@PROFILE for: {profiles})",
        )
    try:
        # Off the event loop, as the native sign-in: password hashing and directory binds.
        access, principal = await asyncio.to_thread(
            engine.signin.login, name, form.get("password", ""), source_of(request)
        )
    except SignInError as exc:
        return _error(400, "access_denied", str(exc))
    ttl = engine.config.auth.session_ttl_minutes * 60
    return JSONResponse(
        {
            "access_token": access,
            "token_type": "bearer",
            "scope": form.get("scope", ""),
            "exp": str(ttl),
            "ovirt_user": principal.name,
        }
    )


@router.post("/services/sso-logout")
async def logout(request: Request) -> JSONResponse:
    form = await _form(request)
    engine = engine_of(request)
    access = form.get("token", "")
    principal = engine.sessions.lookup(access) if access else None
    if principal is not None:
        engine.signin.logout(access, principal, source_of(request))
    return JSONResponse({})  # as oVirt: an unknown or expired token is already signed out
