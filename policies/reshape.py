"""Reshaping the room of the kept hosts before the drains: exchanges of VMs they already run.

A kept host keeps its VMs, and their mix fixes what it can still take. On mixed hardware the
hosts that must stay anyway (pinned VMs) are the worst: a 32-CPU/768 GiB host that runs many
small VMs is out of vCPUs with half its memory free, and a 96-CPU/384 GiB host next to it has
vCPUs to spare and little memory. Neither can take the VMs of the hosts being drained, whose
mix (GiB per vCPU) lies in between. An exchange moves a vCPU-heavy VM w from the first (P) to
the second (Q) and a memory-heavy VM x from Q to P (or either alone): P's idle memory carries x,
Q's idle vCPUs carry w, and both end with room shaped more like what is to come.

The room a host offers is what the VMs to be drained could use of it: the least of its free
memory, its free vCPUs times their MiB per vCPU and its free CPU (within HighUtilization)
times their MiB per CPU of demand. A host is stranded when its free memory exceeds what its
free vCPUs could carry at that ratio. In order:

1. The memory-rich VMs (more MiB per vCPU than the VMs to drain) of memory-bound kept hosts,
   richest first: each goes to one of the PAIRS most stranded hosts, alone or in exchange for
   one of that host's CHOICES most vCPU-heavy VMs, whichever adds the most room to the two
   hosts, if that is at least two average VMs' memory (a move alone counts double: it costs
   one migration, not two).
2. While the memory-rich VMs to drain need vCPUs where memory is idle: a vCPU-heavy VM of a
   host still stranded goes alone to one of the hosts with the most idle vCPUs, if that adds
   at least one average VM's memory of room.

Both stop when the migration budget left after the drains is spent.

Validity: these moves are written first, in the order they are made, each checked with every
filter and limit in the state as it stands (of an exchange, the move that fits first goes
first); policies.evict.Ejector keeps the order. A VM moves once (it then leaves the movable
lists, and Ejector.moved keeps it from being ejected later). The drains come after and only add
load, so every prefix of the plan stays within the limits.
Bounded: O(memory-rich VMs x PAIRS x CHOICES) for 1, O(stranded hosts x CHOICES x PAIRS) for 2.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from ovtui.model import VM
from policies.evict import Ejection, Ejector
from policies.filters import why_immovable
from policies.params import Params
from policies.placement import fits_after, solo
from policies.state import ClusterState, HostRoom, demand

#: Most stranded hosts tried for each memory-rich VM (and hosts with the most idle vCPUs
#: tried for each vCPU-heavy VM moved alone).
PAIRS = 4
#: vCPU-heavy VMs of a host looked at for an exchange or a move alone.
CHOICES = 6


@dataclass(frozen=True, slots=True)
class Mix:
    """What the VMs to be drained look like: MiB per vCPU and MiB per CPU of demand."""

    per_vcpu: float
    per_cpu: float
    worth: float  # the room an exchange must add: two average VMs' memory
    rich_vcpus: float  # vCPUs of the VMs with more memory per vCPU than the mix


def mix_of(rooms: Sequence[HostRoom]) -> Mix | None:
    mem = sum(r.mem_used for r in rooms)
    vcpus = sum(r.vcpus for r in rooms)
    cpu = sum(r.busy for r in rooms)
    count = sum(len(r.vms) for r in rooms)
    if not count or not vcpus:
        return None
    ratio = mem / vcpus
    rich = sum(v.vcpus for r in rooms for v in r.vms.values() if v.memory_mib > ratio * v.vcpus)
    return Mix(ratio, mem / cpu if cpu > 0 else float("inf"), 2 * mem / count, rich)


@dataclass(slots=True)
class _Free:
    cpu: float
    mem: float
    vcpus: float

    def room(self, mix: Mix) -> float:
        return max(0.0, min(self.mem, self.vcpus * mix.per_vcpu, self.cpu * mix.per_cpu))

    def ok(self) -> bool:
        return self.cpu >= -1e-9 and self.mem >= 0 and self.vcpus >= -1e-9

    def moved(self, out: VM | None, into: VM | None) -> _Free:
        cpu, mem, vcpus = self.cpu, self.mem, self.vcpus
        if out is not None:
            cpu, mem, vcpus = cpu + demand(out), mem + out.memory_mib, vcpus + out.vcpus
        if into is not None:
            cpu, mem, vcpus = cpu - demand(into), mem - into.memory_mib, vcpus - into.vcpus
        return _Free(cpu, mem, vcpus)


def _free(room: HostRoom, params: Params) -> _Free:
    return _Free(
        params.high * room.cpus - room.busy - room.overhead,
        float(room.mem_limit - params.max_free_memory_over_mib - room.mem_used),
        params.max_vcpus_per_cpu * room.cpus - room.vcpus,
    )


def _stranded(room: HostRoom, params: Params, mix: Mix) -> float:
    """Memory that idle vCPUs cannot reach (> 0: vCPU-bound), or vCPU room that no free
    memory backs, in MiB (< 0: memory-bound)."""
    f = _free(room, params)
    return f.mem - max(0.0, f.vcpus) * mix.per_vcpu


def _ratio(vm: VM) -> float:
    return vm.memory_mib / max(1, vm.vcpus)


@dataclass(slots=True)
class _Run:
    state: ClusterState
    params: Params
    mix: Mix
    ej: Ejector
    hosts: list[HostRoom]
    movable: dict[str, list[VM]]  # per host, the VMs it ran that may move, densest first

    def stranded(self, room: HostRoom) -> float:
        return _stranded(room, self.params, self.mix)

    def apply(self, moves: list[tuple[VM, HostRoom, HostRoom]]) -> bool:
        """The moves in an order in which each fits when it happens (as given, or reversed)."""
        for order in (moves, moves[::-1]):
            done: list[tuple[VM, HostRoom, HostRoom]] = []
            for vm, _, target in order:
                if not fits_after(self.state, self.params, solo(self.state, vm), target):
                    break
                self.state.move(vm, target.name)
                done.append(order[len(done)])
            if len(done) == len(order):
                self._record(done)
                return True
            for vm, source, _ in reversed(done):
                self.state.move(vm, source.name)
        return False

    def _record(self, done: list[tuple[VM, HostRoom, HostRoom]]) -> None:
        for vm, source, target in done:
            other = [v.name for v, _, _ in done if v is not vm]
            swap = f", in exchange for {other[0]}" if other else ""
            why = (
                f"{vm.name} moves first, from {source.name} to {target.name}{swap}: both stay "
                "in service, and afterwards their free memory and vCPUs fit the VMs of the "
                "hosts being drained better"
            )
            self.ej.add(Ejection(solo(self.state, vm), source, target, why, ""))
            self.movable[source.name].remove(vm)


def reshape(
    state: ClusterState, params: Params, kept: Sequence[HostRoom], mix: Mix, ej: Ejector
) -> int:
    """Exchanges between `kept` hosts (applied to the state, recorded in `ej`) while they add
    room for `mix`; -> how many moves were made. The memory-rich VMs of memory-bound hosts
    go, richest first, to the host with the most stranded memory that gains from it, in
    exchange for one of its vCPU-heavy VMs or alone; then vCPU-heavy VMs leave the hosts still
    stranded, while the memory-rich VMs to drain need their vCPUs."""
    hosts = [r for r in kept if r.name not in ej.frozen]
    movable = {
        r.name: sorted(
            (v for v in r.vms.values() if not v.affinity_group and not why_immovable(v)),
            key=lambda v: (_ratio(v), v.name),
        )
        for r in hosts
    }
    run = _Run(state, params, mix, ej, hosts, movable)
    before = len(ej.done)
    heap = [(-s, r.name, r) for r in hosts if (s := run.stranded(r)) > mix.worth]
    heapq.heapify(heap)
    rich = sorted(
        ((-_ratio(x), x.name, x, q) for q in hosts if run.stranded(q) < 0 for x in movable[q.name]
         if _ratio(x) > mix.per_vcpu),
        key=lambda t: t[:2],
    )  # fmt: skip
    for _, _, x, host_q in rich:
        if not heap or ej.left < 2:
            break
        if x.uuid in ej.moved:
            continue  # it moved already, in exchange for a richer one
        tried = []
        for _ in range(min(PAIRS, len(heap))):
            host_p = heapq.heappop(heap)[2]
            if run.stranded(host_p) <= mix.worth:
                continue  # no longer stranded: dropped
            tried.append(host_p)
            moves = _best(run, host_p, host_q, x)
            if moves and run.apply(moves):
                break
        for host_p in tried:
            heapq.heappush(heap, (-run.stranded(host_p), host_p.name, host_p))
    _singles(run, heap)
    return len(ej.done) - before


def _best(
    run: _Run, host_p: HostRoom, host_q: HostRoom, x: VM
) -> list[tuple[VM, HostRoom, HostRoom]]:
    """x from Q to P, alone or in exchange for one of P's vCPU-heavy VMs: the best, if worth it."""
    if host_p is host_q:
        return []
    mix = run.mix
    fp, fq = _free(host_p, run.params), _free(host_q, run.params)
    base = fp.room(mix) + fq.room(mix)
    best, found = mix.worth, None
    for w in [None, *run.movable[host_p.name][:CHOICES]]:
        np_, nq = fp.moved(w, x), fq.moved(x, w)
        if not (np_.ok() and nq.ok()):
            continue
        gain = np_.room(mix) + nq.room(mix) - base
        if w is None:
            gain *= 2  # one migration, not two
        if gain > best:
            best, found = gain, [(x, host_q, host_p)] + ([(w, host_p, host_q)] if w else [])
    return found or []


def _singles(run: _Run, heap: list[tuple[float, str, HostRoom]]) -> None:
    """vCPU-heavy VMs off the hosts still stranded, to the hosts with the most idle vCPUs,
    while the memory-rich VMs to drain need those vCPUs (Mix.rich_vcpus)."""
    mix, want = run.mix, run.mix.rich_vcpus
    partners: list[HostRoom] = []
    made = 0
    while heap and want > 0 and run.ej.left >= 1:
        _, _, host_p = heapq.heappop(heap)
        if run.stranded(host_p) <= mix.worth:
            continue
        if not partners or made % PAIRS == 0:  # re-ranked now and then: they change slowly
            partners = heapq.nsmallest(PAIRS + 1, run.hosts, key=run.stranded)
        fp = _free(host_p, run.params)
        moved = None
        for w in run.movable[host_p.name][:CHOICES]:
            for host_q in partners:
                fq = _free(host_q, run.params)
                np_, nq = fp.moved(w, None), fq.moved(None, w)
                gain = np_.room(mix) + nq.room(mix) - fp.room(mix) - fq.room(mix)
                ok = host_q is not host_p and nq.ok() and gain > mix.worth / 2
                if ok and run.apply([(w, host_p, host_q)]):
                    moved = w
                    break
            if moved is not None:
                break
        if moved is not None:
            made += 1
            want -= moved.vcpus
            heapq.heappush(heap, (-run.stranded(host_p), host_p.name, host_p))
