"""Moving units of VMs: what may move together, and where it may go without crossing a line.

A unit is one VM, or every member of an affinity group that sits on the same host (they must
stay together, so they move together). `place` runs every filter for every member against every
candidate host, then keeps the hosts that stay within the thresholds after the move
(CPU <= HighUtilization, free memory >= MaxFreeMemoryForOverUtilized), and picks the best by the
given weighers. Nothing here moves anything: callers apply the result to their ClusterState.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ovtui.model import VM
from policies.filters import FilterContext, refusal, why_immovable
from policies.params import Params
from policies.state import ClusterState, HostRoom, demand, gib, pct
from policies.weights import Ask, Weigher, best


@dataclass(frozen=True, slots=True)
class Unit:
    """VMs that move together, with their CPU demand and memory added up once."""

    vms: tuple[VM, ...]
    cpu: float
    memory_mib: int
    uuids: frozenset[str]

    @classmethod
    def of(cls, vms: Sequence[VM]) -> Unit:
        return cls(
            tuple(vms),
            sum(demand(v) for v in vms),
            sum(v.memory_mib for v in vms),
            frozenset(v.uuid for v in vms),
        )

    @property
    def name(self) -> str:
        if len(self.vms) == 1:
            return self.vms[0].name
        group = self.vms[0].affinity_group
        return "+".join(v.name for v in self.vms) + f" (affinity group {group})"


def units_on(state: ClusterState, room: HostRoom) -> tuple[list[Unit], list[str]]:
    """The movable units on a host, and why the others cannot move."""
    units: list[Unit] = []
    blocked: list[str] = []
    groups: dict[str, list[VM]] = {}
    for vm in sorted(room.vms.values(), key=lambda v: v.name):
        if vm.affinity_group:
            groups.setdefault(vm.affinity_group, []).append(vm)
            continue
        why = why_immovable(vm)
        if why:
            blocked.append(why)
        else:
            units.append(Unit.of((vm,)))
    for group, members in sorted(groups.items()):
        elsewhere = [
            v for v in state.affinity_members.get(group, ()) if state.where[v.uuid] != room.name
        ]
        whys = [w for w in (why_immovable(v) for v in members) if w]
        if whys:
            blocked.append(f"affinity group {group} cannot move: " + "; ".join(whys))
        elif elsewhere:
            blocked.append(
                f"affinity group {group} is split ({elsewhere[0].name} runs on "
                f"{state.where[elsewhere[0].uuid]}): its members here stay put"
            )
        else:
            units.append(Unit.of(members))
    return units, blocked


@dataclass(frozen=True, slots=True)
class Placement:
    unit: Unit
    target: HostRoom
    cpu_before: float
    cpu_after: float
    how: str = ""  # why this target, when it is not simply the best one (a swap, ...)


def _fits(state: ClusterState, params: Params, unit: Unit, room: HostRoom) -> str | None:
    """Filters for every member, members added one by one so that they count for each other."""
    ctx = FilterContext(state, params, unit.uuids)
    added: list[VM] = []
    try:
        for vm in unit.vms:
            why = refusal(ctx, vm, room)
            if why:
                return why
            room.add(vm)
            added.append(vm)
        return None
    finally:
        for vm in added:
            room.remove(vm)


def within_thresholds(params: Params, unit: Unit, room: HostRoom) -> str | None:
    after = room.cpu_with(unit.cpu)
    if after > params.high:
        return f"{room.name} would reach CPU {pct(after)} > {pct(params.high)}"
    free = room.mem_free - unit.memory_mib
    if free < params.max_free_memory_over_mib:
        return (
            f"{room.name} would keep {gib(max(free, 0))} free "
            f"< {gib(params.max_free_memory_over_mib)}"
        )
    return None


class Headroom:
    """Hosts in service, ordered three times: by CPU headroom below HighUtilization (host CPUs),
    by free memory within over-commit (MiB), and by vCPUs left within MaxVcpusPerCpu.

    Large clusters must not cost every placement a look at every host. `candidates` walks only
    the hosts that have room in the scarcest of the three (bisection tells how many do), least
    room first when packing, most room first when spreading; `place` stops after a short list
    of hosts that pass. Call `update` for both hosts after every move.
    """

    def __init__(self, rooms: Iterable[HostRoom], high: float, vcpus_per_cpu: float) -> None:
        self.high = high
        self.ratio = vcpus_per_cpu
        self._rooms: dict[str, HostRoom] = {}
        self._keys: dict[str, tuple[tuple[float, str], ...]] = {}
        self._orders: tuple[list[tuple[float, str]], ...] = ([], [], [])
        for room in rooms:
            self._rooms[room.name] = room
            self._keys[room.name] = keys = self._key(room)
            for order, key in zip(self._orders, keys, strict=True):
                order.append(key)
        for order in self._orders:
            order.sort()

    def _key(self, room: HostRoom) -> tuple[tuple[float, str], ...]:
        return (
            (self.high * room.cpus - room.busy - room.overhead, room.name),
            (float(room.mem_free), room.name),
            (self.ratio * room.cpus - room.vcpus, room.name),
        )

    def names(self) -> list[str]:
        """The hosts it ranks, by name."""
        return sorted(self._rooms)

    def __len__(self) -> int:
        return len(self._orders[0])

    def _drop(self, name: str) -> None:
        old = self._keys.pop(name, None)
        if old is not None:
            for order, key in zip(self._orders, old, strict=True):
                del order[bisect.bisect_left(order, key)]

    def update(self, room: HostRoom) -> None:
        """Re-rank a host after a move (or add it back after `discard`)."""
        self._drop(room.name)
        if room.in_service:
            self._rooms[room.name] = room
            self._keys[room.name] = keys = self._key(room)
            for order, key in zip(self._orders, keys, strict=True):
                bisect.insort(order, key)

    def discard(self, room: HostRoom) -> None:
        """No longer a candidate (being drained, or released)."""
        self._drop(room.name)
        self._rooms.pop(room.name, None)

    def most_room(
        self, dim: int, need: float, count: int, having: Callable[[str], bool] = bool
    ) -> list[HostRoom]:
        """Up to `count` hosts `having` (by name) the most room in `dim` (0 CPU, 1 memory,
        2 vCPUs), at least `need` of it, most first; at most LOOK_AT hosts are looked at."""
        out: list[HostRoom] = []
        for looked, (room_left, name) in enumerate(reversed(self._orders[dim])):
            if room_left < need - 1e-9 or len(out) >= count or looked >= LOOK_AT:
                break
            if having(name):
                out.append(self._rooms[name])
        return out

    def candidates(self, unit: Unit, keep_free_mib: int, *, pack: bool) -> Iterator[HostRoom]:
        """Hosts with room for `unit` in the scarcest dimension, least room first when packing,
        most room first when spreading (the other checks are `place`'s)."""
        needs = (unit.cpu, unit.memory_mib + keep_free_mib, sum(v.vcpus for v in unit.vms))
        starts = [
            bisect.bisect_left(order, (need - 1e-9, ""))
            for order, need in zip(self._orders, needs, strict=True)
        ]
        k = max(range(3), key=lambda d: starts[d])  # the fewest hosts with room
        keys = self._orders[k][starts[k] :]
        for _, name in keys if pack else reversed(keys):
            yield self._rooms[name]


def fits_after(state: ClusterState, params: Params, unit: Unit, room: HostRoom) -> bool:
    """Whether `room` takes `unit` within every limit and filter, as the state stands."""
    return (
        room.cpu_with(unit.cpu) <= params.high
        and room.mem_free - unit.memory_mib >= params.max_free_memory_over_mib
        and room.vcpus + sum(v.vcpus for v in unit.vms) <= params.max_vcpus_per_cpu * room.cpus
        and _fits(state, params, unit, room) is None
    )


#: Hosts that pass every check, among which the weighers choose.
SHORTLIST = 16
#: Once one host fits, at most this many hosts are looked at in all.
LOOK_AT = 64


def place(
    state: ClusterState,
    params: Params,
    unit: Unit,
    candidates: Iterable[HostRoom],
    weighers: Sequence[Weigher],
    shortlist: int = SHORTLIST,
    none_left: str = "no other host in service",
) -> tuple[Placement | None, str]:
    """The best target for `unit` among the first `shortlist` candidates that pass (or those
    found among the first LOOK_AT looked at), or None and the most common reason none did.
    Clusters up to SHORTLIST hosts are weighed exhaustively."""
    ok: list[HostRoom] = []
    refused: dict[str, list[Any]] = {}  # kind -> [count, a host, its reason or None]
    source = state.where[unit.vms[0].uuid]
    high, keep = params.high, params.max_free_memory_over_mib
    vcpus, vcpu_cap = sum(v.vcpus for v in unit.vms), params.max_vcpus_per_cpu
    looked = 0
    for room in candidates:
        if room.name == source:
            continue
        looked += 1
        if ok and looked > LOOK_AT:
            break  # enough: a host that fits is known, and looking further costs more
        if room.cpu_with(unit.cpu) > high:
            kind, why = "cpu", None
        elif room.mem_free - unit.memory_mib < keep:
            kind, why = "memory", None
        elif room.vcpus + vcpus > vcpu_cap * room.cpus:
            kind, why = "vcpus", None  # the vcpu_ratio filter would say so; this is quicker
        else:
            why = _fits(state, params, unit, room)
            kind = why.split(" ", 1)[1] if why else ""  # the reason without the host's name
        if kind:
            seen = refused.setdefault(kind, [0, room, why])
            seen[0] += 1
            continue
        ok.append(room)
        if len(ok) >= shortlist:
            break
    if not ok:
        if not refused:
            return None, none_left
        _, room, why = max(refused.values(), key=lambda r: r[0])
        text = str(why or within_thresholds(params, unit, room) or _fits(state, params, unit, room))
        others = sum(r[0] for r in refused.values()) - 1
        if others:
            text += f" (and {others} other host{'s' if others > 1 else ''})"
        return None, text
    ok.sort(key=lambda r: r.name)
    target = best(weighers, Ask(unit.cpu, unit.memory_mib), ok)
    return Placement(unit, target, target.cpu, target.cpu_with(unit.cpu)), ""
