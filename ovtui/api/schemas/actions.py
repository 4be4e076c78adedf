"""Outcomes of VM and host actions (what the engine reports once the action is done)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from ovtui.api.schemas.derive import Strict
from ovtui.fleet.vm_ops import VM_ACTIONS

# The actions the fleet performs, so a new one is documented the moment it exists.
PowerActionName = StrEnum("PowerActionName", {name: name for name in VM_ACTIONS})  # type: ignore[misc]


class VmActionOutcome(Strict):
    vm: str
    uuid: str
    host: str = Field(description="where the VM is now")
    action: PowerActionName
    result: str = Field(description='"done", or "shut off" for shutdown')
    placement: str | None = Field(
        None, description="start of a VM ovtui provisioned: why this host (ovtui.provision)"
    )
    seconds: float


class MigrationOutcome(Strict):
    """Figures (downtime_ms, job_ms, transferred_mib) come from libvirt, for live migrations."""

    vm: str
    uuid: str
    host: str = Field(description="the target, where the VM is now")
    action: Literal["migrate"]
    result: str = Field(description='"moved (MODE)"')
    seconds: float
    source: str
    target: str
    mode: Literal["live", "cold", "offline"]
    note: str | None = Field(None, description="cold migrations: why the VM was restarted")
    downtime_ms: int | None = None
    job_ms: int | None = None
    transferred_mib: float | None = None


class Moved(Strict):
    vm: str
    target: str
    reason: str


class MaintenanceOutcome(Strict):
    host: str
    result: Literal["in maintenance", "already in maintenance"]
    moved: list[Moved]


class ActivateOutcome(Strict):
    host: str
    result: Literal["activated", "was not in maintenance"]
