"""Templates: list and show (inventory.read), make from a shut-off VM and delete
(template.manage). Changes pass Require and Engine.perform (audit), then ovtui.provision."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from auth.permissions import Permission
from auth.principal import ObjectRef, visible
from ovtui.api.authz import Caller, Require, engine_of
from ovtui.api.lookup import find_vm

router = APIRouter(prefix="/api/v1", tags=["templates"])


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
    description: Annotated[str, Field(max_length=1000)] = ""


class MadeTemplate(BaseModel):
    result: str
    template: Template


class DeletedTemplate(BaseModel):
    result: str
    deleted_disks: list[str]


def _ref(t: dict[str, Any]) -> ObjectRef:
    return ObjectRef("template", t["name"], t["datacenter"] or "")


@router.get("/templates", summary="Templates (Blank is built in)")
async def template_list(
    request: Request, caller: Annotated[Caller, Depends(Require(Permission.INVENTORY_READ))]
) -> list[Template]:
    prov = engine_of(request).provision
    every = prov.templates.all()
    placed = [t for t in every if t["datacenter"]]
    mine = [t for t in every if not t["datacenter"]] + list(visible(caller.principal, placed, _ref))
    return [Template.model_validate(prov.template_view(t)) for t in mine]


@router.get(
    "/templates/{template}",
    dependencies=[Depends(Require(Permission.INVENTORY_READ, target="template"))],
    summary="One template, with the VMs made from it",
)
async def template_show(request: Request, template: str) -> Template:
    prov = engine_of(request).provision
    return Template.model_validate(prov.template_view(prov.templates.find(template)))


@router.post("/vms/{vm}/template", status_code=201, summary="Make a template from a shut-off VM")
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


@router.delete("/templates/{template}", summary="Delete a template no VM's disks depend on")
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
