"""NIC change requests and outcomes, and the MAC pools (what ovtui.api.routes.nics writes)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ovtui.api.schemas.derive import Strict

Mac = Annotated[str, Field(pattern=r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")]


class NicAdd(Strict):
    network: Annotated[str, Field(min_length=1, max_length=64, description="logical network")]
    model: Literal["virtio", "e1000", "rtl8139"] = "virtio"
    mac: Mac | None = Field(None, description="default: the lowest free address of the pool")


class NicLink(Strict):
    state: Literal["up", "down"]


class NicOutcome(Strict):
    vm: str
    uuid: str
    host: str
    action: Literal["nic.add", "nic.remove", "nic.link"]
    mac: str
    result: str = Field(description='"plugged", "unplugged", "removed", "link up|down", ...')
    seconds: float


class MacClash(Strict):
    mac: str
    vms: list[str] = Field(
        description="the VMs with this address that the caller may read (ovtui's or not)"
    )


class MacPool(Strict):
    datacenter: str
    ranges: list[str]
    size: int = Field(ge=0)
    used: int = Field(ge=0, description="addresses of the pool some VM of the fleet has")
    clashes: list[MacClash] = Field(description="addresses (in the pool or not) on several VMs")
