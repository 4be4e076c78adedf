"""Anti-affinity: no two members of a group on one host."""

from __future__ import annotations

from ovtui.model import VM
from policies.filters.base import FilterContext, HostFilter
from policies.state import HostRoom


class AntiAffinityFilter(HostFilter):
    name = "anti_affinity"

    def refuse(self, ctx: FilterContext, vm: VM, room: HostRoom) -> str | None:
        group = vm.anti_affinity_group
        if not group:
            return None
        mine = 1 if vm.uuid in room.vms else 0
        if room.anti[group] - mine > 0:
            return f"{room.name} already runs a member of anti-affinity group {group}"
        return None
