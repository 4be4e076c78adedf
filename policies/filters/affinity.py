"""Positive affinity: members of an affinity group run on one host, so they move together."""

from __future__ import annotations

from ovtui.model import VM
from policies.filters.base import FilterContext, HostFilter
from policies.state import HostRoom


class AffinityFilter(HostFilter):
    name = "affinity"

    def refuse(self, ctx: FilterContext, vm: VM, room: HostRoom) -> str | None:
        group = vm.affinity_group
        if not group:
            return None
        state = ctx.state
        for other in state.affinity_members.get(group, ()):
            if other.uuid == vm.uuid or other.uuid in ctx.companions:
                continue
            host = state.where[other.uuid]
            if host != room.name:
                return f"{vm.name} must stay with {other.name} (affinity group {group}) on {host}"
        return None
