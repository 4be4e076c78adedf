"""A VM moves only within its cluster (CPU models and networks may differ across clusters)."""

from __future__ import annotations

from ovtui.model import VM
from policies.filters.base import FilterContext, HostFilter
from policies.state import HostRoom


class SameClusterFilter(HostFilter):
    name = "same_cluster"

    def refuse(self, ctx: FilterContext, vm: VM, room: HostRoom) -> str | None:
        if room.host.cluster != vm.cluster:
            return f"{room.name} is in cluster {room.host.cluster}, {vm.name} in {vm.cluster}"
        return None
