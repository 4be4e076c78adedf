"""Records of the append-only logs (events, migration history, audit trail).

Records written by older versions stay in the files, so beyond `seq`, `ts` and the fields every
version wrote, fields are optional and unknown ones allowed (a log is history, not a form).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")
    seq: int = Field(ge=1, description="strictly increasing within the log")
    ts: str = Field(description="ISO 8601, UTC")


class EventRecord(_Record):
    """Something that happened to a VM, a host, or a migration."""

    kind: Literal["vm", "host", "migration"]
    host: str | None = None
    vm: str | None = None
    uuid: str | None = None
    what: str | None = Field(None, description="a libvirt lifecycle event, a host state, ...")
    detail: str | None = None


class MigrationRecord(_Record):
    """One migration, succeeded or failed (figures from libvirt for live migrations)."""

    vm: str
    uuid: str
    source: str
    target: str
    actor: str
    result: Literal["succeeded", "failed"]
    mode: Literal["live", "cold", "offline"] | None = None
    seconds: float | None = None
    error: str | None = Field(None, description="why it failed (result failed)")
    downtime_ms: float | None = None
    job_ms: float | None = None
    transferred_mib: float | None = None


class AuditRecord(_Record):
    """One login, sign-out or action, allowed, failed or refused, chained by hash."""

    actor: str
    actor_source: str = ""
    action: str = Field(description="login, logout, a permission (refusals) or the action")
    target: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    result: Literal["ok", "failed", "denied", "refused", "alert"] = Field(
        description="denied: 401/403; refused: another 4xx the engine decided; alert: the "
        "engine found the trail damaged at start"
    )
    source: str = Field("", description="where the request came from")
    detail: str = ""
    prev: str = Field(description="the hash of the record before")
    hash: str = Field(description="sha256 over this record without seq and hash")
