"""HA and power management: host power, fence, "confirm host has been rebooted", VM HA flags,
and the HA status (recoveries in progress, hosts being fenced, VMs left down)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from auth.permissions import Permission
from auth.principal import ObjectRef
from ovtui.api.authz import Caller, Require, cluster_ref, engine_of, may_read, target_vm
from ovtui.api.lookup import find_host
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.errors import FLEET, documented
from ovtui.engine import ha_actions

router = APIRouter(prefix="/api/v1", tags=["high availability"], route_class=RouterRoute)
Fencer = Annotated[Caller, Depends(Require(Permission.HOST_FENCE, target="host"))]
Reader = Annotated[Caller, Depends(Require(Permission.INVENTORY_READ, target="list"))]


class ActionResult(BaseModel):
    result: str = Field(description="what was done, for people")


class PowerRequest(BaseModel):
    action: Literal["status", "on", "off", "reboot"]


class PowerResult(ActionResult):
    host: str
    action: str = Field(description="power_status, power_on, power_off or power_reboot")
    seconds: float
    state: Literal["on", "off"] | None = Field(None, description="for status: the BMC's answer")


class HaSettings(BaseModel):
    ha: bool = Field(description="restart the VM elsewhere after its host is fenced, or a crash")
    priority: Annotated[int, Field(ge=0, le=100, description="higher restarts first")] = 0


class WaitingVm(BaseModel):
    vm: str
    uuid: str
    priority: int


class HostHa(BaseModel):
    stage: str = Field(description="up, suspect, soft_fencing, soft_wait, fencing_off, "
                       "confirming_off, powering_on, fenced, needs_confirmation")  # fmt: skip
    since: float
    held: str = Field(description="the guard holding fencing back, if any")
    last_error: str
    fenced_at: float | None
    fenced_by: str
    waiting: list[WaitingVm] = Field(
        description="HA VMs that ran there when it was lost, highest priority first: restarted "
        "once it is fenced (empty while it is up)"
    )


class RecoveryInfo(BaseModel):
    vm: str
    uuid: str
    from_: str = Field(alias="from", description="the host it ran on")
    priority: int
    cause: Literal["fenced", "crashed"]
    stage: Literal["pending", "starting"]
    attempts: int
    next_try: float
    last_error: str


class LeftDown(BaseModel):
    vm: str
    uuid: str
    host: str
    since: float


class Reservation(BaseModel):
    ok: bool = Field(description="the other hosts can take the HA VMs of any one failed host")
    detail: str
    ha_vms: int


class HaStatus(BaseModel):
    hosts: dict[str, HostHa]
    reservation: dict[str, Reservation] = Field(description="per cluster")
    recoveries: list[RecoveryInfo]
    left_down: list[LeftDown] = Field(description="non-HA VMs of fenced hosts: they stay down")


def _host(request: Request, host: str) -> str:
    return find_host(engine_of(request).snapshot(), host).name


@router.get("/ha", summary="HA status: hosts being fenced, recoveries in progress, VMs left down",
            **documented(HaStatus))  # fmt: skip
async def ha_status(request: Request, caller: Reader) -> dict[str, object]:
    engine = engine_of(request)
    snap = engine.snapshot()
    status = engine.ha.status()

    def readable(host: str) -> bool:
        h = snap.host(host)
        return h is not None and may_read(
            caller.principal, ObjectRef("host", h.name, h.datacenter, h.cluster, h.name)
        )

    return {
        "hosts": {n: v for n, v in status["hosts"].items() if readable(n)},
        "recoveries": [r for r in status["recoveries"] if readable(r["from"])],
        "reservation": {
            c: v
            for c, v in status["reservation"].items()
            if may_read(caller.principal, cluster_ref(c, engine.config.datacenter_of(c)))
        },
        "left_down": [v for v in status["left_down"] if readable(v["host"])],
    }


# 400: the host has no power management ([hosts.power] kind = "none").
@router.post("/hosts/{host}/power", summary="Power status, on, off or reboot through its BMC",
             **documented(PowerResult, 400, *FLEET))  # fmt: skip
async def host_power(
    request: Request, host: str, body: PowerRequest, caller: Fencer
) -> dict[str, object]:
    engine = engine_of(request)
    name = _host(request, host)
    return await ha_actions.power(engine, caller.principal, name, body.action, caller.source)


@router.post("/hosts/{host}/fence", summary="Fence now: power off, confirm off, power on",
             **documented(ActionResult, 400, *FLEET))  # fmt: skip
async def host_fence(request: Request, host: str, caller: Fencer) -> dict[str, object]:
    engine = engine_of(request)
    return await ha_actions.fence(engine, caller.principal, _host(request, host), caller.source)


@router.post(
    "/hosts/{host}/confirm-rebooted",
    **documented(ActionResult, *FLEET),
    summary="Confirm a non-responsive host has been rebooted: its HA VMs restart",
)
async def host_confirm_rebooted(request: Request, host: str, caller: Fencer) -> dict[str, object]:
    engine = engine_of(request)
    name = _host(request, host)
    return await ha_actions.confirm_rebooted(engine, caller.principal, name, caller.source)


@router.put("/vms/{vm}/ha", summary="Set a VM's HA flag and restart priority (0-100)",
            **documented(ActionResult, *FLEET))  # fmt: skip
async def vm_ha(
    request: Request,
    vm: str,
    body: HaSettings,
    caller: Annotated[Caller, Depends(Require(Permission.VM_HA, target="vm"))],
) -> dict[str, object]:
    engine = engine_of(request)
    target = target_vm(request)
    return await ha_actions.set_vm_ha(
        engine, caller.principal, target, body.ha, body.priority, caller.source
    )
