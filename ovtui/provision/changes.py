"""Clone a shut-off VM; edit a VM's size, description and flags. Both work on any VM of the
fleet (defined by ovtui or not); what ovtui provisions also gets its stored definition updated.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ovtui.fleet.errors import FleetError
from ovtui.model import VM, VmState
from ovtui.provision import edit_ops, host_ops
from ovtui.provision.domain_xml import (
    METADATA_NS,
    DiskRef,
    from_template,
    meta_xml,
    strip_identity,
)
from ovtui.provision.spec import Copy, VmSpec

if TYPE_CHECKING:
    from ovtui.provision.service import ProvisionService

EDITABLE = (
    "vcpus",
    "memory_mib",
    "description",
    "highly_available",
    "ha_priority",
    "pinned",
    "migratable",
    "affinity_group",
    "anti_affinity_group",
)


def spec_of(svc: ProvisionService, vm: VM, xml: str) -> VmSpec:
    """The VM as it is, in the terms of a VmSpec (for clones and edits)."""
    rec = svc.definitions.get(vm.uuid) or {}
    settings = svc.store.vm_settings(vm.uuid)
    meta = ET.fromstring(xml).find(f"metadata/{{{METADATA_NS}}}vm")
    return VmSpec(
        name=vm.name,
        cluster=vm.cluster,
        vcpus=vm.vcpus,
        memory_mib=vm.memory_mib,
        description=ET.fromstring(xml).findtext("description") or "",
        ha=bool(settings.get("ha", vm.highly_available)),
        ha_priority=int(
            settings.get("ha_priority", meta.get("ha_priority", 0) if meta is not None else 0)
        ),
        pinned=vm.pinned,
        migratable=vm.migratable,
        affinity_group=vm.affinity_group,
        anti_affinity_group=vm.anti_affinity_group,
        template=rec.get("template", "Blank"),
        thin=False,
    )


async def clone(svc: ProvisionService, vm: VM, name: str, actor: str) -> dict[str, Any]:
    """A shut-off VM's copy: its definition without identity, full copies of its disks, made on
    its host (which sees their domains); the clone depends on no template."""
    if vm.state != VmState.SHUTOFF:
        raise FleetError(
            f"{vm.name} is {vm.state.value}: only a shut-off VM is cloned (its disks must not "
            "change while they are copied); shut it down first",
            kind="conflict",
            vm=vm.name,
        )
    disks = svc.templates.disks_of(vm)
    link = svc.fleet.links[vm.host]
    xml = await link.call(lambda c: host_ops.inactive_xml(c, vm.uuid), action="read", vm=vm.name)
    spec = replace(spec_of(svc, vm, xml), name=name, host=None)
    dc = svc.check(spec)
    base = strip_identity(xml)
    copies = [Copy(domain, volume, fmt, thin=False) for _t, domain, volume, fmt in disks]

    def build(refs: list[DiskRef], _kind: str, uuid: str) -> str:
        return from_template(base, spec, uuid, refs)

    out = await svc.provision(spec, dc, copies, build, actor, host=vm.host, kind="clone")
    out["result"] = f"cloned {vm.name} as {name} on {out['host']}"
    return out


async def edit(svc: ProvisionService, vm: VM, changes: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise FleetError(
            f"cannot edit {', '.join(unknown)} (editable: {', '.join(EDITABLE)})", kind="invalid"
        )
    if not changes:
        raise FleetError(f"nothing to change (editable: {', '.join(EDITABLE)})", kind="invalid")
    link = svc.fleet.links[vm.host]
    xml = await link.call(lambda c: host_ops.inactive_xml(c, vm.uuid), action="read", vm=vm.name)
    now = spec_of(svc, vm, xml)
    rename = {"highly_available": "ha"}
    spec = replace(now, **{rename.get(k, k): v for k, v in changes.items()})
    svc.check_size(spec)
    flags = {"highly_available", "ha_priority", "pinned", "migratable"}
    flags |= {"affinity_group", "anti_affinity_group"}
    change = edit_ops.Edit(
        vcpus=spec.vcpus if "vcpus" in changes else None,
        memory_mib=spec.memory_mib if "memory_mib" in changes else None,
        description=spec.description if "description" in changes else None,
        meta_xml=meta_xml(spec) if flags & set(changes) else None,
    )
    how = await link.call(lambda c: edit_ops.apply(c, vm.uuid, change), action="edit", vm=vm.name)
    if {"highly_available", "ha_priority"} & set(changes):
        svc.store.set_vm_settings(vm.uuid, ha=spec.ha, ha_priority=spec.ha_priority)
    if svc.owns(vm.uuid):
        new_xml = await link.call(lambda c: host_ops.inactive_xml(c, vm.uuid), action="read")
        svc.definitions.update(vm.uuid, xml=new_xml, description=spec.description)
    await svc.fleet.reread_vm(vm.host, vm.uuid)
    said = ", ".join(f"{k} {v}" for k, v in how.items())
    return {"result": f"{vm.name}: {said}", "vm": vm.name, "applied": how}
