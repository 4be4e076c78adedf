"""vCPU over-commit: committed vCPUs per host CPU stay within MaxVcpusPerCpu."""

from __future__ import annotations

from ovtui.model import VM
from policies.filters.base import FilterContext, HostFilter
from policies.state import HostRoom


class VcpuRatioFilter(HostFilter):
    name = "vcpu_ratio"

    def refuse(self, ctx: FilterContext, vm: VM, room: HostRoom) -> str | None:
        if vm.uuid in room.vms:
            return None
        limit = room.cpus * ctx.params.max_vcpus_per_cpu
        if room.vcpus + vm.vcpus > limit:
            return (
                f"{room.name} would commit {room.vcpus + vm.vcpus} vCPUs on {room.cpus} CPUs "
                f"(MaxVcpusPerCpu {ctx.params.max_vcpus_per_cpu:g})"
            )
        return None
