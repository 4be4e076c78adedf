"""The VM's memory must fit in what the target has left within the cluster's over-commit."""

from __future__ import annotations

from ovtui.model import VM
from policies.filters.base import FilterContext, HostFilter
from policies.state import HostRoom, gib


class MemoryFilter(HostFilter):
    name = "memory"

    def refuse(self, ctx: FilterContext, vm: VM, room: HostRoom) -> str | None:
        if vm.uuid in room.vms:
            return None
        if vm.memory_mib > room.mem_free:
            left = gib(max(0, room.mem_free))
            return (
                f"{vm.name} needs {gib(vm.memory_mib)}, {room.name} has {left}"
                f" left within {ctx.state.cluster.memory_overcommit_percent}% over-commit"
            )
        return None
