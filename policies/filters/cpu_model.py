"""The target's CPU model must be the cluster's (else the guest's CPU may be missing features)."""

from __future__ import annotations

from ovtui.model import VM
from policies.filters.base import FilterContext, HostFilter
from policies.state import HostRoom


class CpuModelFilter(HostFilter):
    name = "cpu_model"

    def refuse(self, ctx: FilterContext, vm: VM, room: HostRoom) -> str | None:
        wanted = ctx.state.cluster.cpu_model
        have = room.host.cpu_model
        if not have:
            return f"{room.name}'s CPU model is not known yet"
        if wanted and have != wanted:
            return f"{room.name} has CPU model {have}, cluster needs {wanted}"
        return None
