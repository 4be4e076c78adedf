"""Moving units of VMs: what may move together, and where it may go without crossing a line.

A unit is one VM, or every member of an affinity group that sits on the same host (they must
stay together, so they move together). `place` runs every filter for every member against every
candidate host, then keeps the hosts that stay within the thresholds after the move
(CPU <= HighUtilization, free memory >= MaxFreeMemoryForOverUtilized), and picks the best by the
given weighers. Nothing here moves anything: callers apply the result to their ClusterState.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from ovtui.model import VM
from policies.filters import FilterContext, refusal, why_immovable
from policies.params import Params
from policies.ranking import Entry, Ranking
from policies.state import ClusterState, HostRoom, demand, gib, pct
from policies.weights import Ask, Weigher, best


@dataclass(frozen=True, slots=True)
class Unit:
    """VMs that move together, with their CPU demand and memory added up once."""

    vms: tuple[VM, ...]
    cpu: float
    memory_mib: int
    uuids: frozenset[str]
    vcpus: int

    @classmethod
    def of(cls, vms: Sequence[VM]) -> Unit:
        if len(vms) == 1:
            vm = vms[0]
            return cls((vm,), demand(vm), vm.memory_mib, frozenset((vm.uuid,)), vm.vcpus)
        return cls(
            tuple(vms),
            sum(demand(v) for v in vms),
            sum(v.memory_mib for v in vms),
            frozenset(v.uuid for v in vms),
            sum(v.vcpus for v in vms),
        )

    @property
    def name(self) -> str:
        if len(self.vms) == 1:
            return self.vms[0].name
        group = self.vms[0].affinity_group
        return "+".join(v.name for v in self.vms) + f" (affinity group {group})"


def solo(state: ClusterState, vm: VM) -> Unit:
    """The one-VM unit of `vm`, built once per planning run (many passes ask again)."""
    unit = state.solo.get(vm.uuid)
    if unit is None:
        unit = state.solo[vm.uuid] = Unit.of((vm,))
    return unit


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
            units.append(solo(state, vm))
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
    """Hosts in service, ranked three times (policies.ranking): by CPU headroom below
    HighUtilization (host CPUs), by free memory within over-commit (MiB), and by vCPUs left
    within MaxVcpusPerCpu.

    Large clusters must not cost every placement a look at every host. `candidates` walks only
    the hosts that have room in the scarcest of the three (bisection tells how many do), least
    room first when packing, most room first when spreading; `place` stops after a short list
    of hosts that pass, and `place_packed` also passes over blocks of hosts that all lack a
    resource. Call `update` for both hosts after every move.
    """

    def __init__(self, rooms: Iterable[HostRoom], high: float, vcpus_per_cpu: float) -> None:
        self.high = high
        self.ratio = vcpus_per_cpu
        self._rooms: dict[str, HostRoom] = {}
        self._left: dict[str, tuple[float, float, float]] = {}
        for room in rooms:
            self._rooms[room.name] = room
            self._left[room.name] = self._room_left(room)
        self.rankings = tuple(
            Ranking(_entry(d, name, left) for name, left in self._left.items()) for d in range(3)
        )

    def _room_left(self, room: HostRoom) -> tuple[float, float, float]:
        return (
            self.high * room.cpus - room.busy - room.overhead,
            float(room.mem_free),
            self.ratio * room.cpus - room.vcpus,
        )

    def names(self) -> list[str]:
        """The hosts it ranks, by name."""
        return sorted(self._rooms)

    def __len__(self) -> int:
        return len(self._left)

    def room(self, name: str) -> HostRoom:
        return self._rooms[name]

    def left(self, name: str) -> tuple[float, float, float] | None:
        """The room `name` is ranked with (CPU, MiB, vCPUs), None when it is not ranked."""
        return self._left.get(name)

    def _drop(self, name: str) -> None:
        old = self._left.pop(name, None)
        if old is not None:
            for d, ranking in enumerate(self.rankings):
                ranking.remove(_entry(d, name, old))

    def update(self, room: HostRoom) -> None:
        """Re-rank a host after a move (or add it back after `discard`)."""
        self._drop(room.name)
        if room.in_service:
            self._rooms[room.name] = room
            self._left[room.name] = left = self._room_left(room)
            for d, ranking in enumerate(self.rankings):
                ranking.add(_entry(d, room.name, left))

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
        for looked, entry in enumerate(self.rankings[dim].descending()):
            if entry[0] < need - 1e-9 or len(out) >= count or looked >= LOOK_AT:
                break
            if having(entry[1]):
                out.append(self._rooms[entry[1]])
        return out

    def scarcest(self, needs: tuple[float, float, float]) -> tuple[int, tuple[int, int]]:
        """The resource the fewest hosts have room for `needs` in, and where in its ranking
        the hosts with the room start (block, index)."""
        probes = [(need - 1e-9, "") for need in needs]
        below = [r.below(p) for r, p in zip(self.rankings, probes, strict=True)]
        k = max(range(3), key=lambda d: below[d])  # the fewest hosts with room
        return k, self.rankings[k].start(probes[k])

    def candidates(self, unit: Unit, keep_free_mib: int, *, pack: bool) -> Iterator[HostRoom]:
        """Hosts with room for `unit` in the scarcest dimension, least room first when packing,
        most room first when spreading (the other checks are `place`'s)."""
        k, (j, i) = self.scarcest(_needs(unit, keep_free_mib))
        ranking = self.rankings[k]
        entries = ranking.ascending(j, i) if pack else ranking.descending((j, i))
        for entry in entries:
            yield self._rooms[entry[1]]


def _entry(dim: int, name: str, left: tuple[float, float, float]) -> Entry:
    return (left[dim], name, *left)


def _needs(unit: Unit, keep_free_mib: int) -> tuple[float, float, float]:
    return (unit.cpu, unit.memory_mib + keep_free_mib, unit.vcpus)


def fits_after(state: ClusterState, params: Params, unit: Unit, room: HostRoom) -> bool:
    """Whether `room` takes `unit` within every limit and filter, as the state stands."""
    return (
        room.cpu_with(unit.cpu) <= params.high
        and room.mem_free - unit.memory_mib >= params.max_free_memory_over_mib
        and room.vcpus + unit.vcpus <= params.max_vcpus_per_cpu * room.cpus
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
    vcpus, vcpu_cap = unit.vcpus, params.max_vcpus_per_cpu
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
    return _choose(unit, ok, weighers), ""


def _choose(unit: Unit, ok: list[HostRoom], weighers: Sequence[Weigher]) -> Placement:
    ok.sort(key=lambda r: r.name)
    target = best(weighers, Ask(unit.cpu, unit.memory_mib), ok)
    return Placement(unit, target, target.cpu, target.cpu_with(unit.cpu))


#: How far below a unit's need a block's most room must be for the block to be passed over:
#: far more than rounding (room in CPUs and vCPUs is a float; MiB are whole numbers).
MARGIN = 1e-6


def place_packed(
    state: ClusterState,
    params: Params,
    unit: Unit,
    index: Headroom,
    weighers: Sequence[Weigher],
    shortlist: int = SHORTLIST,
    *,
    skip: Collection[str] = (),
    look: int | None = None,
    none_left: str | None = None,
) -> tuple[Placement | None, str]:
    """What `place` answers over `index.candidates(unit, ..., pack=True)` less the hosts in
    `skip`, the first `look` of them: the same hosts are counted, checked and weighed, but a
    block of the ranking whose hosts all lack a resource the unit needs (policies.ranking) is
    counted whole without a look at its hosts. When no host takes the unit, the reason is
    `place`'s (its scan, run again) if `none_left` is given, else ""."""
    keep = params.max_free_memory_over_mib
    needs = _needs(unit, keep)
    k, (j0, i0) = index.scarcest(needs)
    ranking = index.rankings[k]
    source = state.where[unit.vms[0].uuid]
    marks = []  # hosts of the ranking that are not looked at: where they rank, whether skipped
    for name, skipped in (
        *((n, True) for n in skip),
        *(((source, False),) if source not in skip else ()),
    ):
        left = index.left(name)
        if left is not None:
            marks.append(((left[k], name), skipped))
    lows = [need - MARGIN for need in needs]
    high, keep_free, vcpus = params.high, keep, needs[2]
    cap = params.max_vcpus_per_cpu
    ok: list[HostRoom] = []
    taken = looked = 0  # hosts the caller's candidates gave (`look`), hosts place looked at
    for n in range(j0, len(ranking.blocks)):
        block = ranking.blocks[n]
        entries = block[i0:] if n == j0 else block
        top = ranking.tops[n]
        if top[0] < lows[0] or top[1] < lows[1] or top[2] < lows[2]:
            first, last = entries[0][:2], entries[-1][:2]
            given = counted = len(entries)
            for pos, skipped in marks:
                if first <= pos <= last:
                    given -= skipped
                    counted -= 1
            if look is not None and taken + given >= look:
                break  # the candidates end in this block, which takes nothing
            taken, looked = taken + given, looked + counted
            if ok and looked > LOOK_AT:
                break
            continue
        for entry in entries:
            name = entry[1]
            if name in skip:
                continue
            taken += 1
            if look is not None and taken > look:
                break
            if name == source:
                continue
            looked += 1
            if ok and looked > LOOK_AT:
                break
            if entry[2] < lows[0] or entry[3] < lows[1] or entry[4] < lows[2]:
                continue  # its ranked room says no, well beyond rounding (as for a block)
            room = index.room(name)
            if (
                room.cpu_with(unit.cpu) > high
                or room.mem_free - unit.memory_mib < keep_free
                or room.vcpus + vcpus > cap * room.cpus
                or _fits(state, params, unit, room) is not None
            ):
                continue
            ok.append(room)
            if len(ok) >= shortlist:
                break
        else:
            continue
        break
    if ok:
        return _choose(unit, ok, weighers), ""
    if none_left is None:
        return None, ""
    hosts = (r for r in index.candidates(unit, keep, pack=True) if r.name not in skip)
    return place(state, params, unit, islice(hosts, look), weighers, shortlist, none_left)
