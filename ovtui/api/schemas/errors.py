"""The error body every refusal and failure carries, and the responses routes declare for it.

Every error is `{"error": {"status": N, "message": "..."}}` (ovtui.api.app._error); failures
from the fleet add kind, host, vm and the raw libvirt text in `detail`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FleetKind = Literal["invalid", "conflict", "hypervisor", "unavailable", "timeout"]


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: int = Field(description="the HTTP status again, for clients that lose it")
    message: str = Field(description="what went wrong and what to do instead")
    kind: FleetKind | None = Field(None, description="failures from the fleet only")
    host: str | None = Field(None, description="failures from the fleet only")
    vm: str | None = Field(None, description="failures from the fleet only")
    detail: str | None = Field(None, description="the raw libvirt error, for logs")


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    error: ErrorDetail


WHY: dict[int, str] = {
    400: "Invalid request: the message names the field and what would be valid (or the body "
    "could not be decoded at all)",
    401: "Not signed in, or the session expired or was signed out: sign in again",
    403: "Signed in, but no role held on the target grants the permission",
    404: "No such object: the message says how to list them",
    409: "Conflicts with the object's state or name (e.g. two VMs share it: use the UUID)",
    422: "Malformed request (path, query or body): the message lists every problem",
    502: "The hypervisor refused or failed the operation",
    503: "The host is not reachable now",
    504: "The operation did not finish in time",
}
# What a FleetError can become (ovtui.api.app.STATUS_OF_KIND) on routes that act on the fleet;
# kind "invalid" (400) only arises for values the request's own validation already refuses.
FLEET = (409, 502, 503, 504)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody, "description": WHY[code]} for code in sorted(set(codes))}


def documented(
    model: Any, *errors: int, status: int = 200, description: str = "Success"
) -> dict[str, Any]:
    """Decorator keywords: the success body and the errors specific to this route.

    `response_model=None`: the model documents, it does not re-validate what the route returns
    (lists of 20 000 VMs go out pre-serialised). 401/403/404/409/422 that follow from the route's
    authorisation, path and parameters are added by ovtui.api.openapi for every route.
    """
    return {
        "response_model": None,
        "status_code": status,
        "responses": {status: {"model": model, "description": description}}
        | error_responses(*errors),
    }
