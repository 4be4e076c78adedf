"""Provisioning: create a VM in a cluster (vm.create), delete one (vm.delete).

Each passes Require (RBAC, on the cluster or the VM) and Engine.perform (audit), then
ovtui.provision.service.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from auth.permissions import Permission
from ovtui.api.authz import Caller, Require, engine_of
from ovtui.api.lookup import find_vm
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.errors import FLEET, documented
from ovtui.api.schemas.text import XML_SAFE, Description, GroupName
from ovtui.provision.cloud_init import CloudInit, CloudUser
from ovtui.provision.spec import DiskSpec, NicSpec, VmSpec

router = APIRouter(prefix="/api/v1", tags=["provisioning"], route_class=RouterRoute)
MAX_BYTES = 1 << 50  # 1 PiB: a typo guard, not a policy


class NewDisk(BaseModel):
    storage: Annotated[str, Field(min_length=1, description="storage domain")]
    size_bytes: Annotated[int, Field(gt=0, le=MAX_BYTES)]
    format: Literal["qcow2", "raw"] = "qcow2"
    allocation: Literal["thin", "preallocated"] = "thin"


class NewNic(BaseModel):
    source: Annotated[
        str, Field(min_length=1, max_length=64, pattern=XML_SAFE, description="bridge or network")
    ]
    type: Literal["bridge", "network"] = "bridge"


class NewCloudUser(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=32)]
    ssh_keys: list[Annotated[str, Field(max_length=16384)]] = Field(default_factory=list)


class NewCloudInit(BaseModel):
    hostname: Annotated[str, Field(min_length=1, max_length=253)]
    users: list[NewCloudUser] = Field(default_factory=list)
    user_data: str | None = Field(None, description="raw user-data, given to the guest as is")
    attach: Literal["disk", "cdrom"] = "disk"
    storage: str | None = Field(None, description="the seed's storage domain (default: vda's)")

    def spec(self) -> CloudInit:
        users = tuple(CloudUser(u.name, tuple(u.ssh_keys)) for u in self.users)
        return CloudInit(self.hostname, users, self.user_data, self.attach, self.storage)


class CreateVm(BaseModel):
    name: Annotated[
        str, Field(min_length=1, max_length=200, description="checked: libvirt-safe, unique")
    ]
    vcpus: Annotated[int | None, Field(ge=1, le=4096, description="default: template's, or 1")] = (
        None
    )
    memory_mib: Annotated[
        int | None, Field(ge=16, le=1 << 24, description="default: template's, or 512")
    ] = None
    disks: list[NewDisk] = Field(default_factory=list)
    nics: list[NewNic] = Field(default_factory=list)
    description: Description = ""
    highly_available: bool = False
    ha_priority: Annotated[int, Field(ge=0, le=100, description="higher restarts first")] = 0
    pinned: bool = False
    migratable: bool = True
    affinity_group: GroupName = ""
    anti_affinity_group: GroupName = ""
    template: Annotated[str, Field(min_length=1, max_length=64)] = "Blank"
    thin: bool = Field(
        True, description="from a template: qcow2 overlays on its volumes (false: full copies)"
    )
    host: Annotated[str | None, Field(description="None: the scheduler chooses")] = None
    start: bool = Field(False, description="start it once defined")
    cloud_init: NewCloudInit | None = Field(None, description="a NoCloud (cidata) seed")

    def spec(self, cluster: str) -> VmSpec:
        return VmSpec(
            name=self.name,
            cluster=cluster,
            vcpus=self.vcpus or 0,
            memory_mib=self.memory_mib or 0,
            disks=tuple(
                DiskSpec(d.storage, d.size_bytes, d.format, d.allocation) for d in self.disks
            ),
            nics=tuple(NicSpec(n.source, n.type) for n in self.nics),
            description=self.description,
            ha=self.highly_available,
            ha_priority=self.ha_priority,
            pinned=self.pinned,
            migratable=self.migratable,
            affinity_group=self.affinity_group,
            anti_affinity_group=self.anti_affinity_group,
            template=self.template,
            thin=self.thin,
            host=self.host,
            cloud_init=self.cloud_init.spec() if self.cloud_init else None,
        )


class CreatedDisk(BaseModel):
    domain: str
    volume: str
    format: str
    target: str


class CreatedVm(BaseModel):
    result: str
    vm: str
    uuid: str
    host: str
    placement: str = Field(description="why this host")
    started: bool
    disks: list[CreatedDisk]
    warnings: list[str]


class DeletedVm(BaseModel):
    result: str
    vm: str
    deleted_disks: list[str]
    kept_disks: list[str] = Field(description="disks that could not be deleted, with why")


@router.post(
    "/clusters/{cluster}/vms",
    summary="Create a VM (blank or from a template)",
    description="400: a value the fleet refuses (name taken by libvirt rules, unknown storage "
    "domain or template, no host fits); 409: the name is taken.",
    **documented(CreatedVm, 400, *FLEET, status=201, description="Created"),
)
async def vm_create(
    request: Request,
    cluster: str,
    body: CreateVm,
    caller: Annotated[Caller, Depends(Require(Permission.VM_CREATE, target="cluster"))],
) -> CreatedVm:
    engine = engine_of(request)
    spec = body.spec(cluster)

    async def run() -> dict[str, Any]:
        return await engine.provision.create(spec, caller.principal.name, start=body.start)

    out = await engine.perform(
        caller.principal,
        "vm.create",
        f"cluster/{cluster}",
        body.model_dump(),
        run,
        caller.source,
    )
    return CreatedVm.model_validate(out)


@router.delete(
    "/vms/{vm}",
    summary="Delete a shut-off VM, with its disks if asked",
    description="409: the VM runs.",
    **documented(DeletedVm, 400, *FLEET),
)
async def vm_delete(
    request: Request,
    vm: str,
    caller: Annotated[Caller, Depends(Require(Permission.VM_DELETE, target="vm"))],
    disks: bool = False,
) -> DeletedVm:
    engine = engine_of(request)
    target = find_vm(engine.snapshot(), vm)

    async def run() -> dict[str, Any]:
        return await engine.provision.delete(target, disks)

    out = await engine.perform(
        caller.principal,
        "vm.delete",
        f"vm/{target.name}@{target.host}",
        {"uuid": target.uuid, "disks": disks},
        run,
        caller.source,
    )
    return DeletedVm.model_validate(out)


class CloneVm(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200, description="the clone's name")]


class EditVm(BaseModel):
    """Only the fields given change."""

    vcpus: Annotated[int | None, Field(ge=1, le=4096)] = None
    memory_mib: Annotated[int | None, Field(ge=16, le=1 << 24)] = None
    description: Description | None = None
    highly_available: bool | None = None
    ha_priority: Annotated[int | None, Field(ge=0, le=100)] = None
    pinned: bool | None = None
    migratable: bool | None = None
    affinity_group: GroupName | None = None
    anti_affinity_group: GroupName | None = None


class EditedVm(BaseModel):
    result: str
    vm: str
    applied: dict[str, str] = Field(
        description="per field: live, next start (libvirt cannot apply it live), or defined "
        "(the VM is shut off)"
    )


@router.post(
    "/vms/{vm}/clone",
    summary="Clone a shut-off VM (full copies)",
    description="409: the VM runs, or the name is taken.",
    **documented(CreatedVm, 400, *FLEET, status=201, description="Created"),
)
async def vm_clone(
    request: Request,
    vm: str,
    body: CloneVm,
    caller: Annotated[Caller, Depends(Require(Permission.VM_CREATE, target="vm"))],
) -> CreatedVm:
    engine = engine_of(request)
    source = find_vm(engine.snapshot(), vm)

    async def run() -> dict[str, Any]:
        return await engine.provision.clone(source, body.name, caller.principal.name)

    out = await engine.perform(
        caller.principal,
        "vm.clone",
        f"vm/{source.name}@{source.host}",
        {"uuid": source.uuid, "name": body.name},
        run,
        caller.source,
    )
    return CreatedVm.model_validate(out)


@router.patch(
    "/vms/{vm}",
    summary="Edit size (live where libvirt allows), description, flags",
    **documented(EditedVm, 400, *FLEET),
)
async def vm_edit(
    request: Request,
    vm: str,
    body: EditVm,
    caller: Annotated[Caller, Depends(Require(Permission.VM_CREATE, target="vm"))],
) -> EditedVm:
    engine = engine_of(request)
    target = find_vm(engine.snapshot(), vm)
    fields = body.model_dump(exclude_none=True)

    async def run() -> dict[str, Any]:
        return await engine.provision.edit(target, fields)

    out = await engine.perform(
        caller.principal,
        "vm.edit",
        f"vm/{target.name}@{target.host}",
        {"uuid": target.uuid, **fields},
        run,
        caller.source,
    )
    return EditedVm.model_validate(out)


class ImportVm(BaseModel):
    source: Annotated[
        str, Field(min_length=1, max_length=1000, description="a file under [provision] import_dir")
    ]
    storage: Annotated[str, Field(min_length=1, description="storage domain for its disks")]
    name: Annotated[str | None, Field(max_length=200, description="default: OVF's or file's")] = (
        None
    )
    vcpus: Annotated[int | None, Field(ge=1, le=4096)] = None
    memory_mib: Annotated[int | None, Field(ge=16, le=1 << 24)] = None
    start: bool = False
    v2v: bool = Field(False, description="convert drivers with virt-v2v (where installed)")


@router.post(
    "/clusters/{cluster}/vms/import",
    summary="Import a disk image (qcow2, raw, vmdk, vdi) or an OVA as a new VM",
    description="400: import is off (no [provision] import_dir), the file is outside it, "
    "unreadable or corrupt, or virt-v2v was asked for.",
    **documented(CreatedVm, 400, *FLEET, status=201, description="Created"),
)
async def vm_import(
    request: Request,
    cluster: str,
    body: ImportVm,
    caller: Annotated[Caller, Depends(Require(Permission.VM_CREATE, target="cluster"))],
) -> CreatedVm:
    engine = engine_of(request)

    async def run() -> dict[str, Any]:
        return await engine.provision.import_vm(
            cluster,
            body.source,
            body.storage,
            caller.principal.name,
            name=body.name,
            vcpus=body.vcpus,
            memory_mib=body.memory_mib,
            start=body.start,
            v2v=body.v2v,
        )

    out = await engine.perform(
        caller.principal,
        "vm.import",
        f"cluster/{cluster}",
        body.model_dump(),
        run,
        caller.source,
    )
    return CreatedVm.model_validate(out)
