"""Only hosts that are up, in service and measured receive VMs."""

from __future__ import annotations

from ovtui.model import VM, HostState
from policies.filters.base import FilterContext, HostFilter
from policies.state import HostRoom


class HostStateFilter(HostFilter):
    name = "host_state"

    def refuse(self, ctx: FilterContext, vm: VM, room: HostRoom) -> str | None:
        host = room.host
        if host.maintenance:
            return f"{room.name} is in maintenance"
        if host.state != HostState.UP:
            return f"{room.name} is {host.state.value}"
        if host.cpu_usage is None:
            return f"{room.name} has no CPU measurement yet"
        if not room.in_service:
            return f"{room.name} is out of service"
        return None
