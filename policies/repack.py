"""The working state of policies.reclaim over one finished packing: where each unit placed
by the drains goes (it may change target for free: no step is written yet), moves with an
undo log (an Attempt is taken back whole), and placements of one unit on the kept hosts.

A unit placed by the drains keeps its drained host as its source, whatever its target becomes:
it still moves once. A VM a kept host ran before the round moves at most once too (an
ejection, policies.evict); hosts being emptied or drained are never targets (`gone`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from policies.evict import Ejector
from policies.filters import why_immovable
from policies.params import Params
from policies.placement import Headroom, Placement, Unit, place_packed, solo
from policies.state import ClusterState, HostRoom
from policies.weights import PACK

#: Placements looked for in all (the pass's cost), per VM of the cluster, and at least.
WORK_PER_VM = 0.2
MIN_WORK = 400
#: Hosts weighed for a placement, among the first LOOK with room in the scarcest resource.
SHORTLIST = 4
LOOK = 96
#: Units of each host weighed for a swap.
PICK = 8


@dataclass(slots=True)
class Attempt:
    """What one attempt changed, to take it back: each move with what it replaced (where the
    unit was, its placed entry and reason), and the ejections made."""

    moved: list[tuple[Unit, str, tuple[Unit, str, str] | None, str | None]] = field(
        default_factory=list
    )
    ejections: int = 0
    limit: int = 0  # ejections allowed


@dataclass(slots=True)
class Repack:
    """The pass's working state over one finished packing."""

    state: ClusterState
    params: Params
    index: Headroom
    ejector: Ejector
    size: Callable[[Unit], float]
    # per placed unit: (the unit, the drained host it comes from, its current target)
    placed: dict[frozenset[str], tuple[Unit, str, str]]
    landed: dict[str, set[frozenset[str]]]  # per target: the placed units on it
    how: dict[frozenset[str], str] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)  # hosts emptied (or being emptied)
    work: int = 0  # placements looked for, to bound the pass
    most_work: int = 0
    version: dict[str, int] = field(default_factory=dict)  # bumped when a host changes
    picks: dict[tuple[str, int, int, bool], tuple[int, list[tuple[bool, Unit]]]] = field(
        default_factory=dict
    )
    singles: dict[str, Unit | None] = field(default_factory=dict)
    _amounts: dict[frozenset[str], tuple[float, float, float]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        state: ClusterState,
        params: Params,
        index: Headroom,
        ejector: Ejector,
        size: Callable[[Unit], float],
        drained: list[tuple[HostRoom, list[Placement], str]],
    ) -> Repack:
        run = cls(state, params, index, ejector, size, {}, {})
        vms = sum(len(r.vms) for r in state.rooms.values())
        run.most_work = max(MIN_WORK, int(WORK_PER_VM * vms))
        for room, placements, _ in drained:
            run.gone.add(room.name)  # drained: never a target
            for pl in placements:
                run._register(pl.unit, room.name, pl.target.name)
        return run

    def _register(self, unit: Unit, source: str, target: str) -> None:
        self.placed[unit.uuids] = (unit, source, target)
        self.landed.setdefault(target, set()).add(unit.uuids)

    def _unregister(self, uuids: frozenset[str]) -> None:
        _, _, target = self.placed.pop(uuids)
        self.landed[target].discard(uuids)

    def _touch(self, room: HostRoom) -> None:
        self.version[room.name] = self.version.get(room.name, 0) + 1
        if room.name not in self.gone:
            self.index.update(room)

    def go(self, t: Attempt, unit: Unit, to: HostRoom) -> None:
        was = self.state.where[unit.vms[0].uuid]
        entry = self.placed.get(unit.uuids)
        t.moved.append((unit, was, entry, self.how.get(unit.uuids)))
        for vm in unit.vms:
            self.state.move(vm, to.name)
        self._touch(self.state.rooms[was])
        self._touch(to)
        if entry is not None:  # a placed unit changes target
            self._unregister(unit.uuids)
            self._register(unit, entry[1], to.name)

    def back_to(self, t: Attempt, mark: int) -> None:
        """Takes back the moves of `t` after the first `mark`."""
        while len(t.moved) > mark:
            unit, was, entry, how = t.moved.pop()
            at = self.state.where[unit.vms[0].uuid]
            for vm in unit.vms:
                self.state.move(vm, was)
            self._touch(self.state.rooms[at])
            self._touch(self.state.rooms[was])
            if entry is not None:
                self._unregister(unit.uuids)
                self._register(*entry)
            if how is None:
                self.how.pop(unit.uuids, None)
            else:
                self.how[unit.uuids] = how

    def undo(self, t: Attempt) -> None:
        self.back_to(t, 0)
        for _ in range(t.ejections):
            ej = self.ejector.done.pop()
            self.ejector.moved.discard(ej.unit.vms[0].uuid)
            self.ejector.left += 1

    def put(self, t: Attempt, unit: Unit, skip: set[str]) -> HostRoom | None:
        self.work += 1
        found, _ = place_packed(self.state, self.params, unit, self.index, PACK, SHORTLIST,
                                skip=skip, look=LOOK)  # fmt: skip
        if found is None:
            return None
        self.go(t, unit, found.target)
        return found.target

    def short(self, unit: Unit, room: HostRoom) -> tuple[float, float, float]:
        p = self.params
        return (
            max(0.0, room.busy + room.overhead + unit.cpu - p.high * room.cpus),
            float(max(0, p.max_free_memory_over_mib + unit.memory_mib - room.mem_free)),
            max(0.0, room.vcpus + unit.vcpus - p.max_vcpus_per_cpu * room.cpus),
        )

    def free(self, room: HostRoom) -> tuple[float, float, float]:
        p = self.params
        return (
            p.high * room.cpus - room.busy - room.overhead,
            float(room.mem_free - p.max_free_memory_over_mib),
            p.max_vcpus_per_cpu * room.cpus - room.vcpus,
        )

    def before_drains(self, room: HostRoom) -> tuple[float, float, float]:
        """`free` as it is when the moves between kept hosts run: without the placed units."""
        f = list(self.free(room))
        for uuids in self.landed.get(room.name, ()):
            a = self.amounts(self.placed[uuids][0])
            for d in range(3):
                f[d] += a[d]
        return (f[0], f[1], f[2])

    def own(self, t: Attempt, room: HostRoom) -> list[Unit]:
        """VMs `room` ran before the round that may move once (an ejection each)."""
        if room.name in self.ejector.frozen or t.ejections >= t.limit:
            return []
        out = []
        for vm in room.vms.values():
            if vm.host != room.name or vm.uuid in self.ejector.moved:
                continue
            unit = self.singles.get(vm.uuid)
            if unit is None:
                ok = not vm.affinity_group and not why_immovable(vm)
                unit = self.singles[vm.uuid] = solo(self.state, vm) if ok else None
            if unit is not None:
                out.append(unit)
        return out

    def pick(self, t: Attempt, room: HostRoom, rich: int, poor: int) -> list[tuple[bool, Unit]]:
        """The PICK units on `room` with the most of `rich` for the least of `poor` (by the
        host's own ratio of the two), placed units and the host's own VMs."""
        key = (room.name, rich, poor, t.ejections < t.limit)
        cached = self.picks.get(key)
        if cached is not None and cached[0] == self.version.get(room.name, 0):
            return cached[1]
        scale = (self.params.max_vcpus_per_cpu * room.cpus) / max(1.0, room.mem_limit)
        per = (1.0, scale, 1.0)  # memory in vCPUs' worth
        pr, pp = per[rich], per[poor]
        units = [(False, self.placed[u][0]) for u in self.landed.get(room.name, ())]
        units += [(True, w) for w in self.own(t, room)]
        ranked = []
        for ow in units:
            a = self.amounts(ow[1])
            ranked.append((a[poor] * pp - a[rich] * pr, ow[1].name, ow))
        out = [ow for _, _, ow in heapq.nsmallest(PICK, ranked)]
        self.picks[key] = (self.version.get(room.name, 0), out)
        return out

    def amounts(self, unit: Unit) -> tuple[float, float, float]:
        """CPUs of demand, MiB, vCPUs."""
        got = self._amounts.get(unit.uuids)
        if got is None:
            got = self._amounts[unit.uuids] = (unit.cpu, float(unit.memory_mib),
                                               float(unit.vcpus))  # fmt: skip
        return got
