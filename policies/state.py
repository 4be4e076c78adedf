"""The planners' working copy of one cluster: what each host holds, updated move by move.

Built once from a Snapshot in O(hosts + VMs). A VM's CPU demand is the number of host CPUs it
keeps busy (its utilisation times its vCPUs); a host's predicted CPU is the demand of its VMs,
plus whatever the measured host figure shows beyond that (overhead), over its CPUs.
Memory is what active VMs have committed, against the usable memory within over-commit.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from ovtui.model import VM, Cluster, Host, HostState, Snapshot
from policies.plan import HostLoad

if TYPE_CHECKING:
    from policies.placement import Unit


def demand(vm: VM) -> float:
    """Host CPUs the VM keeps busy (0 when not measured yet)."""
    return (vm.cpu_usage or 0.0) * vm.vcpus


@dataclass(slots=True)
class HostRoom:
    host: Host
    mem_limit: int
    in_service: bool  # up and not in maintenance: may run VMs and receive them
    overhead: float = 0.0
    busy: float = 0.0
    mem_used: int = 0
    vcpus: int = 0
    vms: dict[str, VM] = field(default_factory=dict)
    anti: Counter[str] = field(default_factory=Counter)
    affinity: Counter[str] = field(default_factory=Counter)

    @property
    def name(self) -> str:
        return self.host.name

    @property
    def cpus(self) -> int:
        return self.host.cpus

    @property
    def cpu(self) -> float:
        """Predicted CPU utilisation 0..1 (can exceed 1 when demand exceeds capacity)."""
        return (self.busy + self.overhead) / self.cpus if self.cpus else 1.0

    def cpu_with(self, extra: float) -> float:
        return (self.busy + self.overhead + extra) / self.cpus if self.cpus else 1.0

    @property
    def mem_free(self) -> int:
        return self.mem_limit - self.mem_used

    @property
    def memory(self) -> float:
        return self.mem_used / self.mem_limit if self.mem_limit else 1.0

    @property
    def empty(self) -> bool:
        return not self.vms

    def add(self, vm: VM) -> None:
        self.vms[vm.uuid] = vm
        self.busy += demand(vm)
        self.mem_used += vm.memory_mib
        self.vcpus += vm.vcpus
        if vm.anti_affinity_group:
            self.anti[vm.anti_affinity_group] += 1
        if vm.affinity_group:
            self.affinity[vm.affinity_group] += 1

    def remove(self, vm: VM) -> None:
        del self.vms[vm.uuid]
        self.busy = max(0.0, self.busy - demand(vm))
        self.mem_used -= vm.memory_mib
        self.vcpus -= vm.vcpus
        if vm.anti_affinity_group:
            self.anti[vm.anti_affinity_group] -= 1
        if vm.affinity_group:
            self.affinity[vm.affinity_group] -= 1

    def load(self) -> HostLoad:
        return HostLoad(
            cpu=round(self.cpu, 4) if self.host.cpu_usage is not None else None,
            memory=round(self.memory, 4),
            vms=len(self.vms),
            in_service=self.in_service,
        )


class ClusterState:
    """Mutable, private to one planning run; the Snapshot it came from is never changed."""

    def __init__(self, cluster: Cluster, rooms: dict[str, HostRoom]) -> None:
        self.cluster = cluster
        self.rooms = rooms
        self.where: dict[str, str] = {u: r.name for r in rooms.values() for u in r.vms}
        self.affinity_members: dict[str, list[VM]] = {}
        # one-VM units by uuid (policies.placement.solo): VMs do not change within a run
        self.solo: dict[str, Unit] = {}
        for room in rooms.values():
            for vm in room.vms.values():
                if vm.affinity_group:
                    self.affinity_members.setdefault(vm.affinity_group, []).append(vm)

    @classmethod
    def from_snapshot(cls, snap: Snapshot, cluster_name: str) -> ClusterState:
        cluster = snap.cluster(cluster_name) or Cluster(cluster_name, "", "")
        overcommit = cluster.memory_overcommit_percent
        rooms: dict[str, HostRoom] = {}
        for h in snap.hosts:
            if h.cluster == cluster_name:
                rooms[h.name] = HostRoom(
                    host=h,
                    mem_limit=h.memory_mib * overcommit // 100,
                    in_service=h.state == HostState.UP and not h.maintenance,
                )
        for vm in snap.vms:
            room = rooms.get(vm.host)
            if room is not None and vm.active:
                room.add(vm)
        for room in rooms.values():
            measured = room.host.cpu_usage
            if measured is not None and room.cpus:
                room.overhead = max(0.0, measured * room.cpus - room.busy)
        return cls(cluster, rooms)

    def in_service(self) -> list[HostRoom]:
        return [r for r in self.rooms.values() if r.in_service]

    def move(self, vm: VM, target: str) -> None:
        source = self.rooms[self.where[vm.uuid]]
        current = source.vms[vm.uuid]
        source.remove(current)
        self.rooms[target].add(current)
        self.where[vm.uuid] = target

    def loads(self) -> MappingProxyType[str, HostLoad]:
        return MappingProxyType({name: r.load() for name, r in sorted(self.rooms.items())})


def cpu_stddev(loads: Mapping[str, HostLoad]) -> float:
    """Population standard deviation of CPU over hosts in service (the imbalance figure)."""
    values = [v.cpu for v in loads.values() if v.in_service and v.cpu is not None]
    return round(statistics.pstdev(values), 4) if len(values) > 1 else 0.0


def pct(x: float | None) -> str:
    return "?" if x is None else f"{x * 100:.0f}%"


def gib(mib: int) -> str:
    return f"{mib / 1024:.0f} GiB" if mib >= 1024 else f"{mib} MiB"
