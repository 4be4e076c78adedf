"""Moves of VMs that kept hosts already run, written before every drain (ejections).

A kept host's own VMs fix what it can still take: on mixed hardware a memory-rich host that
runs many small VMs is out of vCPUs with half its memory free, a CPU-rich host is out of
memory with vCPUs free, and the VMs of the hosts being drained then fit badly or nowhere.
Three kinds of move change that, each of one VM w that a kept host P ran before the round, to
another kept host Q that takes it within every limit and filter:

- an exchange or a single move between kept hosts before the packing (policies.reshape);
- by choice: a memory-rich VM u of a drained host goes to P, whose memory is idle for want of
  vCPUs, and a vCPU-heavy VM w of P (fewer MiB per vCPU than the VMs to drain, at most half
  of u's memory) goes to Q, where vCPUs are idle: Q's memory carries w rather than u;
- as a last resort, when u fits on no kept host and no swap of placed VMs helps
  (policies.swap): w, smaller than u and covering what P lacks for u, makes the room.

Why every prefix of the plan stays valid: these moves are written first, in the order they
were decided, and each was checked against the planner's state at that moment, which holds
every earlier move of this kind plus some drained VMs (which only add load). So each host
carries no more when the move runs than it did when it was checked. The drains come after
and only add load to kept hosts, so their prefixes stay within the final state's limits. A
move is taken back only while it is the latest one (nothing decided later relied on it).
Ejected VMs move once (Ejector.moved, and VMs placed in this round are never ejected); hosts
that received VMs earlier in the round are left alone (frozen).
Bounded: SEEK hosts per resource as P, TRIES VMs of each, one placement search for Q each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from policies.filters import why_immovable
from policies.placement import Placement, Unit, fits_after, place_packed, solo
from policies.state import HostRoom, demand
from policies.weights import PACK

if TYPE_CHECKING:
    from policies.packing import Packing

#: Kept hosts looked at as P, per resource (memory, vCPUs) with the most of it left.
SEEK = 4
#: VMs of each P tried for ejection, smallest first among those that free enough.
TRIES = 3
#: Hosts weighed for Q, among the first LOOK with room in the scarcest resource.
SHORTLIST = 4
LOOK = 128
#: By choice only for VMs with at least this many times the MiB per vCPU of the VMs to drain
#: (2 rather than 1 at tradeoff 1000x20000: one host more, 300 migrations and a fifth of the
#: time less).
RICH = 2.0


@dataclass(frozen=True, slots=True)
class Ejection:
    """A VM moved off a kept host first, to make room there for a drained host's unit."""

    unit: Unit  # the VM ejected (one VM, no affinity group)
    source: HostRoom  # P
    target: HostRoom  # Q
    why: str
    for_host: str  # the drained host whose unit took the room ("" for policies.reshape)


@dataclass(slots=True)
class Ejector:
    """The ejections of one consolidation (every batch it packs), in the order they happen."""

    size: Callable[[Unit], float]  # the packing's order: only smaller VMs are ejected
    left: int  # migrations the budget leaves for them
    frozen: frozenset[str] = frozenset()  # hosts whose VMs moved earlier in the round
    per_vcpu: float = 0.0  # MiB per vCPU of the VMs to drain (0: no ejection by choice)
    done: list[Ejection] = field(default_factory=list)
    moved: set[str] = field(default_factory=set)  # VMs ejected or placed: never ejected

    def add(self, ejection: Ejection) -> None:
        self.done.append(ejection)
        self.moved.add(ejection.unit.vms[0].uuid)
        self.left -= 1

    def take_back(self, run: Packing, host: str) -> None:
        """`host` is kept after all: the ejections made for its units go back where they
        were, when the room is still there (else they stay: valid, only useless)."""
        while self.done and self.done[-1].for_host == host:  # the latest only: nothing after
            ej = self.done[-1]  # it relied on the room it made
            if fits_after(run.state, run.params, ej.unit, ej.source):
                run.state.move(ej.unit.vms[0], ej.source.name)
                self.done.pop()
                self.moved.discard(ej.unit.vms[0].uuid)
                self.left += 1
                for room in (ej.source, ej.target):
                    run.index.update(room)
            else:
                break


def _short(run: Packing, unit: Unit, room: HostRoom) -> tuple[float, float, float]:
    """What `room` lacks to take `unit` within the limits: CPUs of demand, MiB, vCPUs."""
    p = run.params
    return (
        max(0.0, room.busy + room.overhead + unit.cpu - p.high * room.cpus),
        float(max(0, p.max_free_memory_over_mib + unit.memory_mib - room.mem_free)),
        max(0.0, room.vcpus + unit.vcpus - p.max_vcpus_per_cpu * room.cpus),
    )


def _ejectable(
    run: Packing,
    ej: Ejector,
    room: HostRoom,
    short: tuple[float, float, float],
    size: float,
    rich: Unit | None = None,
) -> list[Unit]:
    """VMs `room` ran before this round that cover `short`, are smaller than `size` and may
    move; smallest first. For a `rich` unit: those with fewer MiB per vCPU than the VMs to
    drain and at most half its memory, the densest first."""
    out = []
    for vm in room.vms.values():
        if vm.uuid in ej.moved or vm.affinity_group or why_immovable(vm):
            continue
        if demand(vm) + 1e-9 < short[0] or vm.memory_mib < short[1] or vm.vcpus < short[2]:
            continue
        if rich is not None and (
            vm.memory_mib >= ej.per_vcpu * vm.vcpus or 2 * vm.memory_mib > rich.memory_mib
        ):
            continue
        w = solo(run.state, vm)
        if rich is None and ej.size(w) >= size:
            continue
        out.append(w)
    if rich is not None:
        out.sort(key=lambda w: (w.memory_mib / max(1, w.vcpus), w.name))
    else:
        out.sort(key=lambda w: (ej.size(w), w.name))
    return out[:TRIES]


def eject_for(
    run: Packing, unit: Unit, source: str, *, by_choice: bool = False
) -> Placement | None:
    """One ejection after which `unit` (of drained host `source`) fits on a kept host, applied
    to the state, the index and `run.ejections`; or None (nothing changed).
    by_choice: `unit` is memory-rich and goes where memory is idle for want of vCPUs, a dense
    VM of that host moving instead to where vCPUs are idle (see the module doc)."""
    ej = run.ejector
    if ej is None or ej.left <= 0:
        return None
    rich = None
    if by_choice:
        if not ej.per_vcpu or unit.memory_mib <= RICH * ej.per_vcpu * unit.vcpus:
            return None
        rich = unit
    p = run.params
    keep_free, size = p.max_free_memory_over_mib, ej.size(unit)
    seen: set[str] = set()

    def may_lose(name: str) -> bool:
        return name not in ej.frozen and name not in seen

    seek = SEEK if rich is None else SEEK // 2
    hosts = run.index.most_room(1, unit.memory_mib + keep_free, seek, may_lose)
    if rich is None:
        hosts += run.index.most_room(2, unit.vcpus, SEEK, may_lose)
    for host_p in hosts:
        if host_p.name in seen:
            continue
        seen.add(host_p.name)
        short = _short(run, unit, host_p)
        if not any(short):
            continue  # it fits by the numbers: a filter refuses it, no ejection helps
        if rich is not None and (short[0] > 0 or short[1] > 0):
            continue  # by choice only where vCPUs alone are missing
        for w in _ejectable(run, ej, host_p, short, size, rich):
            found, _ = place_packed(run.state, p, w, run.index, PACK, SHORTLIST,
                                    skip={host_p.name}, look=LOOK)  # fmt: skip
            if found is None:
                continue
            host_q = found.target
            run.state.move(w.vms[0], host_q.name)
            if fits_after(run.state, p, unit, host_p):
                return _done(run, ej, unit, source, w, host_p, host_q)
            run.state.move(w.vms[0], host_p.name)  # not enough after all (a filter): undo
    return None


def _done(
    run: Packing, ej: Ejector, unit: Unit, source: str, w: Unit, host_p: HostRoom, host_q: HostRoom
) -> Placement:
    why = (
        f"{w.name} moves first, from {host_p.name} to {host_q.name}, so that {host_p.name} has "
        f"the room for {unit.name} of {source}, which fits on no kept host otherwise"
    )
    ej.add(Ejection(w, host_p, host_q, why, source))
    cpu_before = host_p.cpu
    for vm in unit.vms:
        run.state.move(vm, host_p.name)
    for room in (host_p, host_q):
        run.index.update(room)
    how = (
        f"{host_p.name} takes {unit.name} once {w.name} has moved from it to {host_q.name} "
        "(an ejection, written before the drains)"
    )
    placed = Placement(unit, host_p, cpu_before, host_p.cpu, how)
    run.land(source, placed)
    return placed
