"""Templates: list and show (inventory.read), make from a shut-off VM and delete
(template.manage). Changes pass Require and Engine.perform (audit), then ovtui.provision."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from auth.permissions import Permission
from auth.principal import visible
from ovtui.api.authz import Caller, Require, engine_of, may_read, template_ref, vm_ref
from ovtui.api.lookup import find_vm
from ovtui.api.routes.route_class import RouterRoute
from ovtui.api.schemas.errors import FLEET, documented
from ovtui.api.schemas.text import Description

router = APIRouter(prefix="/api/v1", tags=["templates"], route_class=RouterRoute)


class TemplateDisk(BaseModel):
    domain: str
    volume: str
    format: str
    target: str
    capacity_bytes: int


class Template(BaseModel):
    name: str
    datacenter: str | None = Field(description="None: every data center (Blank)")
    description: str
    source_vm: str | None
    created_by: str
    created_at: float
    disks: list[TemplateDisk]
    vms: list[str] = Field(description="VMs made from it")
    thin_vms: list[str] = Field(description="VMs whose disks are overlays on its volumes")


class MakeTemplate(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Description = ""


class MadeTemplate(BaseModel):
    result: str
    template: Template


class DeletedTemplate(BaseModel):
    result: str
    deleted_disks: list[str]


def _shown(request: Request, caller: Caller, t: dict[str, Any]) -> Template:
    """The template, naming only the VMs made from it that the caller may read."""
    engine = engine_of(request)
    readable = {v.name for v in engine.snapshot().vms if may_read(caller.principal, vm_ref(v))}
    view = engine.provision.template_view(t)
    for key in ("vms", "thin_vms"):
        view[key] = [name for name in view[key] if name in readable]
    return Template.model_validate(view)


@router.get("/templates", summary="Templates (Blank is built in)", **documented(list[Template]))
async def template_list(
    request: Request,
    caller: Annotated[Caller, Depends(Require(Permission.INVENTORY_READ, target="list"))],
) -> list[Template]:
    prov = engine_of(request).provision
    mine = visible(caller.principal, prov.templates.all(), template_ref)
    return [_shown(request, caller, t) for t in mine]


@router.get(
    "/templates/{template}",
    summary="One template, with the VMs made from it",
    **documented(Template),
)
async def template_show(
    request: Request,
    template: str,
    caller: Annotated[Caller, Depends(Require(Permission.INVENTORY_READ, target="template"))],
) -> Template:
    return _shown(request, caller, engine_of(request).provision.templates.find(template))


@router.post(
    "/vms/{vm}/template",
    summary="Make a template from a shut-off VM",
    description="409: the VM runs, or the name is taken.",
    **documented(MadeTemplate, 400, *FLEET, status=201, description="Created"),
)
async def template_make(
    request: Request,
    vm: str,
    body: MakeTemplate,
    caller: Annotated[Caller, Depends(Require(Permission.TEMPLATE_MANAGE, target="vm"))],
) -> MadeTemplate:
    engine = engine_of(request)
    source = find_vm(engine.snapshot(), vm)

    async def run() -> dict[str, Any]:
        out = await engine.provision.make_template(
            source, body.name, body.description, caller.principal.name
        )
        return {**out, "template": engine.provision.template_view(out["template"])}

    out = await engine.perform(
        caller.principal,
        "template.create",
        f"vm/{source.name}@{source.host}",
        {"uuid": source.uuid, **body.model_dump()},
        run,
        caller.source,
    )
    return MadeTemplate.model_validate(out)


@router.delete(
    "/templates/{template}",
    summary="Delete a template no VM's disks depend on",
    description="400: Blank is built in; 409: VMs' disks are overlays on its volumes.",
    **documented(DeletedTemplate, 400, *FLEET),
)
async def template_delete(
    request: Request,
    template: str,
    caller: Annotated[Caller, Depends(Require(Permission.TEMPLATE_MANAGE, target="template"))],
) -> DeletedTemplate:
    engine = engine_of(request)

    async def run() -> dict[str, Any]:
        return await engine.provision.delete_template(template)

    out = await engine.perform(
        caller.principal, "template.delete", f"template/{template}", {}, run, caller.source
    )
    return DeletedTemplate.model_validate(out)
