"""Inventory bodies: exactly what ovtui.api.serialize writes for each model object."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ovtui.api.schemas.derive import list_of, model_of
from ovtui.config.schema import ClusterConfig, SchedulingConfig
from ovtui.model import VM, Cluster, DataCenter, Disk, Host, Nic

DataCenterOut = model_of(DataCenter, "DataCenter", doc="A data center")
_CLUSTER_TYPES = {
    "resiliency": ClusterConfig.model_fields["resiliency"].annotation,
    "scheduling_policy": SchedulingConfig.model_fields["policy"].annotation,
    "scheduling_mode": SchedulingConfig.model_fields["mode"].annotation,
}
ClusterOut = model_of(
    Cluster,
    "Cluster",
    types=_CLUSTER_TYPES,
    doc="A cluster and its scheduling settings (as configured)",
)
HostOut = model_of(Host, "Host", doc="A host as last read (state, capacity, load)")
VmOut = model_of(
    VM, "VM", exclude=("devices",), doc="A VM as last read; disks and NICs: GET /vms/{vm}"
)
DiskOut = model_of(Disk, "Disk")
NicOut = model_of(Nic, "Nic")
HostDetail = model_of(
    Host,
    "HostDetail",
    add={"vms": list_of(VmOut)},
    doc="A host with the VMs it runs",
)
VmDetail = model_of(
    VM,
    "VmDetail",
    exclude=("devices",),
    add={"disks": list_of(DiskOut) | None, "nics": list_of(NicOut) | None},
    doc="A VM with its disks and NICs (null: the domain XML has not been read yet)",
)


class Health(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["ok"]
    version: str
    hosts: int = Field(ge=0)
    hosts_up: int = Field(ge=0)
    hosts_read: int = Field(ge=0, description="hosts read at least once since start")
    vms_config_pending: int = Field(
        ge=0,
        description="VMs whose domain XML is still being read (config_pending: their sizes, "
        "flags and devices are not known yet); 0 once the inventory is complete",
    )
    time: float = Field(description="the engine's clock, unix time")
    exporter_port: int | None = Field(description="where /metrics is served; null: not serving")


class VmChangesOut(BaseModel):
    """GET /api/v1/vms?since=REVISION: what changed since then."""

    model_config = ConfigDict(extra="forbid")
    revision: str = Field(description="send it as `since` next time (opaque)")
    full: bool = Field(
        description="true: `vms` is every VM you may read (since=start, or a revision the "
        "engine can no longer answer from: too old, an engine restarted since, your grants "
        "changed); replace what you kept. false: `vms` changed or were added since, `removed` "
        "are gone"
    )
    vms: list[VmOut]  # type: ignore[valid-type]
    removed: list[str] = Field(
        description="UUIDs of VMs removed since (or moved out of what you may read)"
    )
