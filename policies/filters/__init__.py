"""Host filters: can this VM run on that host? One rule per module, first refusal wins.

Cheap rules come first so that most refusals cost little.
"""

from __future__ import annotations

from ovtui.model import VM
from policies.filters.affinity import AffinityFilter
from policies.filters.anti_affinity import AntiAffinityFilter
from policies.filters.base import FilterContext, HostFilter
from policies.filters.cpu_model import CpuModelFilter
from policies.filters.host_state import HostStateFilter
from policies.filters.memory import MemoryFilter
from policies.filters.movable import MovableFilter, why_immovable
from policies.filters.networks import NetworksFilter
from policies.filters.same_cluster import SameClusterFilter
from policies.filters.storage import StorageFilter
from policies.filters.vcpu_ratio import VcpuRatioFilter
from policies.state import HostRoom

FILTERS: tuple[HostFilter, ...] = (
    MovableFilter(),
    SameClusterFilter(),
    HostStateFilter(),
    NetworksFilter(),
    CpuModelFilter(),
    StorageFilter(),
    MemoryFilter(),
    VcpuRatioFilter(),
    AntiAffinityFilter(),
    AffinityFilter(),
)


def refusal(
    ctx: FilterContext, vm: VM, room: HostRoom, filters: tuple[HostFilter, ...] = FILTERS
) -> str | None:
    """The first filter's reason to refuse `room` for `vm`, or None when every filter passes."""
    for f in filters:
        why = f.refuse(ctx, vm, room)
        if why is not None:
            return why
    return None


__all__ = ["FILTERS", "FilterContext", "HostFilter", "refusal", "why_immovable"]
