"""Pinned and non-migratable VMs stay where they are."""

from __future__ import annotations

from ovtui.model import VM
from policies.filters.base import FilterContext, HostFilter
from policies.state import HostRoom


def why_immovable(vm: VM) -> str | None:
    if vm.pinned:
        return f"{vm.name} is pinned to {vm.host}"
    if not vm.migratable:
        return f"{vm.name} is marked non-migratable"
    return None


class MovableFilter(HostFilter):
    name = "movable"

    def refuse(self, ctx: FilterContext, vm: VM, room: HostRoom) -> str | None:
        if room.name == ctx.state.where.get(vm.uuid, vm.host):
            return None
        return why_immovable(vm)
