"""Storage domains, disks and disk moves: what ovtui.storage.views, .disks and .moves write."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from ovtui.api.schemas.derive import Strict, list_of, model_of
from ovtui.config.storage_schema import StorageType
from ovtui.storage.model import POOL_STATES
from ovtui.storage.move_model import CLEANING, COLD_STAGES, FAILED, LIVE_STAGES, DiskMove, Endpoint
from ovtui.storage.pool_xml import LIBVIRT_TYPE
from ovtui.storage.volume_xml import Allocation, Format

# Built from the definitions, so a new state, type or stage is documented the moment it exists.
_POOL = [*POOL_STATES.values(), "error", "unknown"]
PoolState = StrEnum("PoolState", {s: s for s in _POOL})  # type: ignore[misc]
PoolType = StrEnum("PoolType", {t: t for t in dict.fromkeys(LIBVIRT_TYPE.values())})  # type: ignore[misc]
_STAGES = dict.fromkeys((*LIVE_STAGES, *COLD_STAGES, CLEANING, FAILED))
MoveStage = StrEnum("MoveStage", {s: s for s in _STAGES})  # type: ignore[misc]
DomainState = Literal["active", "degraded", "unavailable"]


class HostReading(Strict):
    """The domain's pool on one host, as last read (sizes 0 before the first reading)."""

    host: str
    state: PoolState = Field(
        description="libvirt's pool state; error: realising or reading it failed; unknown: the "
        "host cannot be asked (`error` says why)"
    )
    capacity_bytes: int = Field(ge=0)
    allocation_bytes: int = Field(ge=0)
    available_bytes: int = Field(ge=0)
    error: str
    read_at: float | None = Field(description="unix time of the reading the sizes come from")


class StorageDomain(Strict):
    """A storage domain: its configuration, its state on every host, and its space."""

    name: str
    datacenter: str
    type: StorageType
    shared: bool = Field(description="seen by every host of the data center")
    pool: str = Field(description="the libvirt pool's name on each host")
    pool_type: PoolType
    params: dict[str, str] = Field(description="the type's keys (path, device, portal, ...)")
    state: DomainState = Field(
        description="active: on every host; degraded: on some; unavailable: on none"
    )
    capacity_bytes: int | None = Field(description="from the freshest active reading; null: none")
    allocation_bytes: int | None
    available_bytes: int | None
    hosts: list[HostReading]


class StorageRefreshed(StorageDomain):
    result: str = Field(description='"N of M hosts active"')


class DiskUser(Strict):
    vm: str
    uuid: str
    target: str = Field(description="the guest device, e.g. vdb")


class DiskRow(Strict):
    """A volume of a storage domain, with ovtui's record of it and the VMs that use it."""

    name: str = Field(description="the disk's name (the volume's, for disks ovtui did not make)")
    domain: str
    volume: str
    path: str
    format: Format
    allocation_policy: Allocation | Literal["unknown"]
    capacity_bytes: int = Field(ge=0)
    allocation_bytes: int = Field(ge=0)
    managed: bool = Field(description="created by ovtui (recorded in its store)")
    vms: list[DiskUser]


class VmDiskRow(Strict):
    """A VM's disk; domain, volume, format and sizes null where it is not on a storage domain."""

    target: str
    device: str
    bus: str
    source_type: str
    source: str
    domain: str | None
    volume: str | None
    format: Format | None
    capacity_bytes: int | None
    allocation_bytes: int | None


class DiskCreated(Strict):
    result: str
    warnings: list[str] = Field(description="e.g. a thin disk over-commits the domain")
    disk: DiskRow


class DiskGrown(Strict):
    result: str
    capacity_bytes: int = Field(ge=0)
    allocation_bytes: int = Field(ge=0)


class DiskAttached(Strict):
    result: str
    target: str = Field(description="the guest device it got, e.g. vdb")


class Done(Strict):
    result: str


MoveEndpoint = model_of(
    Endpoint, "DiskMoveEndpoint", types={"format": Format}, doc="A volume in a storage domain"
)
_MOVE_TYPES = {
    "stage": MoveStage,
    "source": MoveEndpoint,
    "dest": MoveEndpoint,
    "history": list[tuple[MoveStage, float]],
}
DiskMoveOut = model_of(
    DiskMove,
    "DiskMove",
    types=_MOVE_TYPES,
    doc="A disk move: its stage, progress (bytes_done of bytes_total) and stage history",
)
DiskMoveOutcome = model_of(
    DiskMove,
    "DiskMoveOutcome",
    types=_MOVE_TYPES,
    add={"result": str},
    doc="A finished disk move",
)
StorageDomains = list_of(StorageDomain)
DiskRows = list_of(DiskRow)
VmDiskRows = list_of(VmDiskRow)
DiskMoves = list_of(DiskMoveOut)
