"""A VM runs only where every storage domain holding its disks is active (oVirt's rule: a host
that cannot see a VM's storage cannot run it)."""

from __future__ import annotations

from ovtui.model import VM
from policies.filters.base import FilterContext, HostFilter
from policies.state import HostRoom


class StorageFilter(HostFilter):
    name = "storage"

    def refuse(self, ctx: FilterContext, vm: VM, room: HostRoom) -> str | None:
        missing = [d for d in vm.storage_domains if d not in room.host.storage_domains]
        if missing:
            return (
                f"{room.name} cannot reach storage domain {', '.join(missing)} "
                f"that holds {vm.name}'s disks"
            )
        return None
