"""Snapshots of a VM (shut off or running) whose disks are all qcow2: create (with the memory of
a running VM, or without), list, revert, delete. libvirt internal snapshots, kept in the qcow2
files and in the host's snapshot metadata (so a VM with snapshots starts where it is)."""

from __future__ import annotations

from typing import Any

from ovtui.fleet.errors import FleetError
from ovtui.fleet.fleet import Fleet
from ovtui.model import VM
from ovtui.provision import snapshot_ops
from ovtui.provision.names import name_problem
from ovtui.provision.snapshot_ops import SEED_SUFFIX


def _not_qcow2(vm: VM) -> list[str]:
    if vm.devices is None:
        raise FleetError(
            f"{vm.name}'s disks are not read yet: try again shortly", kind="unavailable"
        )
    return [
        f"{d.target} ({d.source or 'empty'})"
        for d in vm.devices.disks
        if d.device == "disk" and not d.source.endswith((".qcow2", SEED_SUFFIX))
    ]


def _seeds(vm: VM) -> tuple[str, ...]:
    disks = vm.devices.disks if vm.devices else ()
    return tuple(d.target for d in disks if d.source.endswith(SEED_SUFFIX))


class Snapshots:
    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    async def listing(self, vm: VM) -> list[dict[str, Any]]:
        return await self.fleet.links[vm.host].call(
            lambda c: snapshot_ops.listing(c, vm.uuid), action="list snapshots of", vm=vm.name
        )

    async def create(self, vm: VM, name: str, description: str, memory: bool) -> dict[str, Any]:
        problem = name_problem(name, "snapshot")
        if problem:
            raise FleetError(problem, kind="invalid")
        raw = _not_qcow2(vm)
        if raw:
            raise FleetError(
                f"{vm.name} has disks that are not qcow2: {', '.join(raw)}; snapshots are kept "
                "inside qcow2 files (copy the disk to qcow2 first)",
                kind="invalid",
                vm=vm.name,
            )
        if memory and not vm.active:
            raise FleetError(
                f"{vm.name} is {vm.state.value}: it has no memory to save (leave memory off)",
                kind="invalid",
                vm=vm.name,
            )
        if any(s["name"] == name for s in await self.listing(vm)):
            raise FleetError(f"{vm.name} already has a snapshot {name!r}", kind="conflict")
        await self.fleet.links[vm.host].call(
            lambda c: snapshot_ops.create(c, vm.uuid, name, description, memory, _seeds(vm)),
            action=f"snapshot {name} of",
            vm=vm.name,
            timeout=self.fleet.config.engine.migration_timeout_seconds,
        )
        what = "disks and memory" if memory else "disks"
        return {"result": f"snapshot {name} of {vm.name} taken ({what})", "snapshot": name}

    async def _known(self, vm: VM, name: str) -> None:
        names = [s["name"] for s in await self.listing(vm)]
        if name not in names:
            raise FleetError(
                f"{vm.name} has no snapshot {name!r} (snapshots: {', '.join(names) or 'none'})",
                kind="invalid",
                vm=vm.name,
            )

    async def revert(self, vm: VM, name: str) -> dict[str, Any]:
        await self._known(vm, name)
        try:
            await self.fleet.links[vm.host].call(
                lambda c: snapshot_ops.revert(c, vm.uuid, name),
                action=f"revert to snapshot {name}",
                vm=vm.name,
                timeout=self.fleet.config.engine.migration_timeout_seconds,
            )
        finally:
            await self.fleet.refresh_now(vm.host)
        return {"result": f"{vm.name} reverted to snapshot {name}"}

    async def delete(self, vm: VM, name: str) -> dict[str, Any]:
        await self._known(vm, name)
        await self.fleet.links[vm.host].call(
            lambda c: snapshot_ops.delete(c, vm.uuid, name),
            action=f"delete snapshot {name} of",
            vm=vm.name,
            timeout=self.fleet.config.engine.migration_timeout_seconds,
        )
        return {"result": f"snapshot {name} of {vm.name} deleted"}
