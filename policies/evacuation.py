"""Maintenance evacuation: where each running VM of a host goes, before the host is touched.

Pure: a function of the snapshot. Largest VMs are placed first (they are the hardest to fit);
each goes to the host of its cluster with the lowest predicted CPU load that has room for it
within the memory over-commit and holds no member of its anti-affinity group.
"""

from __future__ import annotations

from dataclasses import dataclass

from ovtui.model import VM, Host, HostState, Snapshot
from policies.filters.networks import lacks_network
from policies.plan import Move, Stuck


@dataclass(slots=True)
class _Room:
    host: Host
    memory_left: int
    busy_vcpus: float
    groups: set[str]

    @property
    def load(self) -> float:
        return self.busy_vcpus / self.host.cpus if self.host.cpus else 1.0


def _rooms(snap: Snapshot, source: Host) -> list[_Room]:
    cluster = snap.cluster(source.cluster)
    overcommit = cluster.memory_overcommit_percent if cluster else 100
    rooms = []
    for h in snap.hosts_in(source.cluster):
        if h.name == source.name or h.state != HostState.UP:
            continue
        vms = [v for v in snap.vms_on(h.name) if v.active]
        rooms.append(
            _Room(
                host=h,
                memory_left=h.memory_mib * overcommit // 100 - h.memory_used_mib,
                busy_vcpus=sum((v.cpu_usage or 0.0) * v.vcpus for v in vms),
                groups={v.anti_affinity_group for v in vms if v.anti_affinity_group},
            )
        )
    return rooms


def _why_stuck(vm: VM) -> str | None:
    if vm.pinned:
        return f"{vm.name} is pinned to {vm.host}"
    if not vm.migratable:
        return f"{vm.name} is marked non-migratable"
    return None


def evacuation_plan(snap: Snapshot, host_name: str) -> tuple[list[Move], list[Stuck]]:
    source = snap.host(host_name)
    if source is None:
        return [], []
    rooms = _rooms(snap, source)
    moves: list[Move] = []
    stuck: list[Stuck] = []
    running = sorted((v for v in snap.vms_on(host_name) if v.active), key=lambda v: -v.memory_mib)
    for vm in running:
        why = _why_stuck(vm)
        if why:
            stuck.append(Stuck(vm.uuid, vm.name, why))
            continue
        no_net = {r.host.name: lacks_network(vm, r.host) for r in rooms}
        fits = [
            r
            for r in rooms
            if r.memory_left >= vm.memory_mib
            and not (vm.anti_affinity_group and vm.anti_affinity_group in r.groups)
            and no_net[r.host.name] is None
        ]
        if not fits and rooms and all(no_net.values()):
            stuck.append(Stuck(vm.uuid, vm.name, "; ".join(v for v in no_net.values() if v)))
            continue
        if not fits:
            stuck.append(
                Stuck(
                    vm.uuid,
                    vm.name,
                    f"no up host in {vm.cluster} has "
                    f"{vm.memory_mib} MiB free (within over-commit) for {vm.name}",
                )
            )
            continue
        best = min(fits, key=lambda r: r.load)
        demand = (vm.cpu_usage or 0.0) * vm.vcpus
        best.memory_left -= vm.memory_mib
        best.busy_vcpus += demand
        if vm.anti_affinity_group:
            best.groups.add(vm.anti_affinity_group)
        reason = (
            f"{host_name} enters maintenance; {best.host.name} has the lowest predicted CPU load "
            f"({best.load:.0%} after the move) with {best.memory_left} MiB left"
        )
        moves.append(Move(vm.uuid, vm.name, host_name, best.host.name, reason))
    return moves, stuck
