"""One host more: after the packing, kept hosts are tried for release one by one (see
policies.consolidation, step 5).

Largest-first packing ends with the free room of the kept hosts in the wrong places: some have
memory free and no vCPU left, others vCPUs and no memory, and a host kept back for a VM that
fit nowhere holds a whole host's worth of VMs although the slack of the others, added up, would
carry them. This pass takes the kept hosts that may go, those that cost the fewest migrations
first, and moves everything off one of them: each unit (largest first) to the fullest kept host
that takes it, or, when none does, to a host P that lacks only a little, once a unit of P has
moved to a third host Q that takes it (the room made). Units that the drains placed on a host
change target for free (no step was written for them, they still move once); a VM a kept host
ran before the round may move to make room (an ejection, written before the drains, as in
policies.evict). When every unit of the host has a place, the host is drained; when one has
none, everything this attempt did is taken back and the next host is tried.

Validity, as for the rest of the consolidation: the host released received nothing (what was
placed on it goes elsewhere, and a host that received an ejected VM is never tried, since that
VM would move twice); every move is checked with every filter and limit in the state as it
stands, which holds every move decided so far, so the final state is within the limits and the
drains (which only add load to kept hosts) keep every prefix within them; an ejection is checked
in a state that carries at least as much as the cluster does when it runs (policies.evict).

Bounded: it stops when the migrations of the round would exceed MOVES_PER_HOST per released host
(the figure the issue keeps), when the budget left is spent, or after GIVE_UP failures in a row;
each unit looks at SEEK hosts per resource for P and TRIES units of each.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from policies.evict import Ejection, Ejector
from policies.filters import why_immovable
from policies.params import Params
from policies.placement import Headroom, Placement, Unit, fits_after, place
from policies.state import ClusterState, HostRoom
from policies.weights import PACK

#: Placements looked for in all (the pass's cost), per VM of the cluster, and at least.
WORK_PER_VM = 0.2
MIN_WORK = 400
#: Most migrations per released host the whole round may reach through this pass.
MOVES_PER_HOST = 17.0
#: Failed hosts in a row after which the pass stops.
GIVE_UP = 24
#: Hosts looked at as P per resource, units of each tried, hosts weighed for a placement.
SEEK = 6
TRIES = 4
SHORTLIST = 4
LOOK = 96
#: Most units moved off a host to make room for one.
ALIGN_HOSTS = 200
ALIGN_SWAPS = 8
CLEAR = 8
#: Units tried in all for it.
CLEAR_LOOK = 16
#: Units of each host weighed for a swap.
PICK = 8


def _vcpus(unit: Unit) -> int:
    return sum(v.vcpus for v in unit.vms)


def _joint(free: list[float] | tuple[float, float, float], ratio: tuple[float, float]) -> float:
    """Free room (MiB) usable by VMs of `ratio` (MiB per vCPU, MiB per CPU of demand)."""
    return max(0.0, min(free[1], free[2] * ratio[0], free[0] * ratio[1]))


def stranded_ok(free: tuple[float, float, float], ratio: tuple[float, float]) -> bool:
    """No vCPUs free without memory to go with them: not a partner for an alignment."""
    return free[2] * ratio[0] <= free[1]


@dataclass(slots=True)
class _Try:
    """What one attempt changed, to take it back: each move with what it replaced (where the
    unit was, its placed entry and reason), and the ejections made."""

    moved: list[tuple[Unit, str, tuple[Unit, str, str] | None, str | None]] = field(
        default_factory=list
    )
    ejections: int = 0
    limit: int = 0  # ejections allowed


@dataclass(slots=True)
class Reclaim:
    """The state of the pass over one consolidation."""

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
    ) -> Reclaim:
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

    # -- moving, with an undo log ------------------------------------------------------

    def _touch(self, room: HostRoom) -> None:
        self.version[room.name] = self.version.get(room.name, 0) + 1
        if room.name not in self.gone:
            self.index.update(room)

    def _go(self, t: _Try, unit: Unit, to: HostRoom) -> None:
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

    def _back_to(self, t: _Try, mark: int) -> None:
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

    def undo(self, t: _Try) -> None:
        self._back_to(t, 0)
        for _ in range(t.ejections):
            ej = self.ejector.done.pop()
            self.ejector.moved.discard(ej.unit.vms[0].uuid)
            self.ejector.left += 1

    # -- placing -----------------------------------------------------------------------

    def _candidates(self, unit: Unit, skip: set[str]) -> Iterator[HostRoom]:
        keep_free = self.params.max_free_memory_over_mib
        hosts = (r for r in self.index.candidates(unit, keep_free, pack=True) if r.name not in skip)
        return islice(hosts, LOOK)

    def put(self, t: _Try, unit: Unit, skip: set[str]) -> HostRoom | None:
        self.work += 1
        found, _ = place(self.state, self.params, unit, self._candidates(unit, skip), PACK,
                         SHORTLIST)  # fmt: skip
        if found is None:
            return None
        self._go(t, unit, found.target)
        return found.target

    def _short(self, unit: Unit, room: HostRoom) -> tuple[float, float, float]:
        p = self.params
        return (
            max(0.0, room.busy + room.overhead + unit.cpu - p.high * room.cpus),
            float(max(0, p.max_free_memory_over_mib + unit.memory_mib - room.mem_free)),
            max(0.0, room.vcpus + _vcpus(unit) - p.max_vcpus_per_cpu * room.cpus),
        )

    def _movable(
        self, t: _Try, room: HostRoom, short: tuple[float, float, float], unit: Unit
    ) -> list[tuple[bool, Unit]]:
        """Units on `room` that cover `short` and are smaller than `unit`: placed units first
        (they move anyway), then VMs the host ran before the round (an ejection each)."""
        out: list[tuple[bool, float, str, Unit]] = []
        size = self.size(unit)
        for uuids in self.landed.get(room.name, ()):
            w = self.placed[uuids][0]
            if self._covers(w, short) and self.size(w) < size:
                out.append((False, self.size(w), w.name, w))
        if room.name not in self.ejector.frozen and t.ejections < t.limit:
            for vm in room.vms.values():
                if vm.host != room.name or vm.uuid in self.ejector.moved:
                    continue  # not one of its own, or it moved already
                if vm.affinity_group or why_immovable(vm):
                    continue
                w = Unit.of((vm,))
                if self._covers(w, short) and self.size(w) < size:
                    out.append((True, self.size(w), w.name, w))
        out.sort(key=lambda x: x[:3])
        return [(own, w) for own, _, _, w in out[:TRIES]]

    @staticmethod
    def _covers(w: Unit, short: tuple[float, float, float]) -> bool:
        return w.cpu + 1e-9 >= short[0] and w.memory_mib >= short[1] and _vcpus(w) >= short[2]

    def make_room(self, t: _Try, unit: Unit, gone: HostRoom) -> HostRoom | None:
        """A host P that takes `unit` once one of its units has moved to a host Q that takes
        it; both moves applied. None: no such pair among those looked at (nothing changed)."""
        keep_free = self.params.max_free_memory_over_mib
        seen = {gone.name}

        def fresh(name: str) -> bool:
            return name not in seen

        hosts = self.index.most_room(1, unit.memory_mib + keep_free, SEEK, fresh)
        hosts += self.index.most_room(2, _vcpus(unit), SEEK, fresh)
        hosts += self.index.most_room(0, unit.cpu, SEEK // 2, fresh)
        for host_p in hosts:
            if host_p.name in seen:
                continue
            seen.add(host_p.name)
            short = self._short(unit, host_p)
            if not any(short):
                continue  # a filter refuses it: moving a unit away does not help
            for own, w in self._movable(t, host_p, short, unit):
                mark = len(t.moved)
                if self.put(t, w, {host_p.name, gone.name}) is None:
                    continue
                if fits_after(self.state, self.params, unit, host_p):
                    self._go(t, unit, host_p)
                    self._record(t, own, w, host_p, unit, gone)
                    return host_p
                self._back_to(t, mark)
        for host_p in hosts:
            found = self._swap(t, unit, host_p, gone) or self._clear(t, unit, host_p, gone)
            if found is not None:
                return found
        return None

    def _clear(self, t: _Try, unit: Unit, host_p: HostRoom, gone: HostRoom) -> HostRoom | None:
        """`unit` onto P once up to CLEAR smaller units of P have gone to hosts that take them
        (placed units first, VMs of P's own as ejections), the ones that free most of what P
        lacks first. -> P, every move applied; None: nothing changed."""
        mark, made, looked = len(t.moved), 0, 0
        failed: set[frozenset[str]] = set()
        moved: list[tuple[bool, Unit]] = []
        size = self.size(unit)
        while len(moved) < CLEAR and looked < CLEAR_LOOK:
            short = self._short(unit, host_p)
            if not any(short):
                break
            d = max(range(3), key=lambda i: short[i] / max(1e-9, (unit.cpu, unit.memory_mib,
                                                                  _vcpus(unit))[i]))  # fmt: skip
            units = [(False, self.placed[u][0]) for u in self.landed.get(host_p.name, ())]
            if made < t.limit - t.ejections:
                units += [(True, w) for w in self._own(t, host_p)]
            tried = {w.uuids for _, w in moved} | failed
            units = [ow for ow in units if self.size(ow[1]) < size and ow[1].uuids not in tried]
            if not units:
                break
            own, w = min(units, key=lambda ow: (ow[0], -(ow[1].cpu, ow[1].memory_mib,
                                                _vcpus(ow[1]))[d], ow[1].name))  # fmt: skip
            looked += 1
            if self.put(t, w, {host_p.name, gone.name}) is None:
                failed.add(w.uuids)
                continue
            moved.append((own, w))
            made += own
        if moved and fits_after(self.state, self.params, unit, host_p):
            self._go(t, unit, host_p)
            for own, w in moved:
                self._record(t, own, w, host_p, unit, gone)
            return host_p
        self._back_to(t, mark)
        return None

    def _free(self, room: HostRoom) -> tuple[float, float, float]:
        p = self.params
        return (
            p.high * room.cpus - room.busy - room.overhead,
            float(room.mem_free - p.max_free_memory_over_mib),
            p.max_vcpus_per_cpu * room.cpus - room.vcpus,
        )

    def _own(self, t: _Try, room: HostRoom) -> list[Unit]:
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
                unit = self.singles[vm.uuid] = Unit.of((vm,)) if ok else None
            if unit is not None:
                out.append(unit)
        return out

    def _swap(self, t: _Try, unit: Unit, host_p: HostRoom, gone: HostRoom) -> HostRoom | None:
        """`unit` onto P once a unit x on P and a unit y on a partner Q change places, P short
        of one resource and Q of the other. x and y are units placed in this round (a new
        target costs nothing) or, one of the two, a VM its host ran before the round (an
        ejection). -> P, every move applied; None: nothing changed."""
        fp = self._free(host_p)
        need = (unit.cpu, float(unit.memory_mib), float(_vcpus(unit)))
        lack = [n - f for n, f in zip(need, fp, strict=True)]
        if all(x <= 1e-9 for x in lack):
            return None
        dim = 2 if lack[2] > 0 else 1  # what P lacks most often: vCPUs, else memory
        other = 3 - dim
        seen = {host_p.name, gone.name}
        partners = self.index.most_room(dim, max(lack[dim], 1.0), SEEK, lambda n: n not in seen)
        on_p = self._pick(t, host_p, dim, other)
        if not on_p:
            return None
        for host_q in partners:
            fq = self._free(host_q)
            on_q = self._pick(t, host_q, other, dim)
            for own_x, x in on_p:
                ax = self.amounts(x)
                for own_y, y in on_q:
                    if own_x and own_y:
                        continue  # two ejections would need an order that fits: not tried
                    ay = self.amounts(y)
                    if all(
                        fp[d] + ax[d] - ay[d] - need[d] >= -1e-9 and fq[d] - ax[d] + ay[d] >= -1e-9
                        for d in range(3)
                    ) and self._swapped(t, unit, (own_x, x), (own_y, y), host_p, host_q, gone):
                        return host_p
        return None

    def _pick(self, t: _Try, room: HostRoom, rich: int, poor: int) -> list[tuple[bool, Unit]]:
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
        units += [(True, w) for w in self._own(t, room)]
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
                                               float(_vcpus(unit)))  # fmt: skip
        return got

    def _swapped(
        self,
        t: _Try,
        unit: Unit | None,
        x: tuple[bool, Unit],
        y: tuple[bool, Unit],
        host_p: HostRoom,
        host_q: HostRoom,
        gone: HostRoom | None,
    ) -> bool:
        (own_x, ux), (own_y, uy) = x, y
        mark = len(t.moved)
        free = uy if own_x else ux  # the placed one goes back to where it comes from, for now
        self._go(t, free, self.state.rooms[self.placed[free.uuids][1]])
        order = ((ux, host_q), (uy, host_p)) if own_x else ((uy, host_p), (ux, host_q))
        for u, to in (*order, *(((unit, host_p),) if unit is not None else ())):
            if not fits_after(self.state, self.params, u, to):
                self._back_to(t, mark)
                return False
            self._go(t, u, to)
        why = (
            f"{ux.name} goes to {host_q.name} and {uy.name} to {host_p.name}, so that "
            f"{host_p.name} has the room for {unit.name} and {gone.name} can be released"
            if unit is not None and gone is not None
            else f"{ux.name} goes to {host_q.name} and {uy.name} to {host_p.name}: the free "
            "memory of one and the free vCPUs of the other end up together"
        )
        for own, u, source, target in ((own_x, ux, host_p, host_q), (own_y, uy, host_q, host_p)):
            if own:
                self.ejector.add(Ejection(u, source, target, f"{u.name} moves first: {why}",
                                          gone.name if gone is not None else ""))  # fmt: skip
                t.ejections += 1
            else:
                self.how[u.uuids] = why
        return True

    def _record(
        self, t: _Try, own: bool, w: Unit, host_p: HostRoom, unit: Unit, gone: HostRoom
    ) -> None:
        host_q = self.state.where[w.vms[0].uuid]
        if own:
            why = (
                f"{w.name} moves first, from {host_p.name} to {host_q}, so that {host_p.name} "
                f"has the room for {unit.name} and {gone.name} can be released"
            )
            self.ejector.add(Ejection(w, host_p, self.state.rooms[host_q], why, gone.name))
            t.ejections += 1
        else:
            self.how[w.uuids] = (
                f"{host_q} takes {w.name} rather than {host_p.name}, so that {host_p.name} has "
                f"the room for {unit.name} and {gone.name} can be released"
            )

    # -- aligning the free room ------------------------------------------------------

    def joint(self, room: HostRoom, ratio: tuple[float, float]) -> float:
        """The free room of `room` that VMs of `ratio` can use (MiB)."""
        return _joint(self._free(room), ratio)

    def align(self, ratio: tuple[float, float], limit: int) -> _Try:
        """Swaps of units between hosts with free memory but no vCPUs and hosts with free
        vCPUs but no memory, while one adds room both together (at `ratio` MiB per vCPU)
        worth an average VM; -> ejections made (at most `limit`)."""
        hosts = [self.state.rooms[n] for n in self.index.names() if n not in self.gone]
        worth = ratio[0] * 2

        def stranded(r: HostRoom) -> float:
            f = self._free(r)
            return f[1] - max(0.0, f[2]) * ratio[0]  # > 0: memory without vCPUs

        rich = sorted((r for r in hosts if stranded(r) > worth), key=lambda r: -stranded(r))
        t = _Try(limit=limit)

        def partner(name: str) -> bool:
            return name not in self.gone and stranded(self.state.rooms[name]) < -worth

        for host_p in rich[:ALIGN_HOSTS]:
            for _ in range(ALIGN_SWAPS):
                partners = self.index.most_room(2, 1, SEEK, partner)  # the most vCPUs free
                if not self._align_one(t, host_p, partners, ratio, worth):
                    break
        return t

    def _align_one(
        self,
        t: _Try,
        host_p: HostRoom,
        partners: list[HostRoom],
        ratio: tuple[float, float],
        worth: float,
    ) -> bool:
        fp = self._free(host_p)
        on_p = self._pick(t, host_p, 2, 1)
        base_p = self.joint(host_p, ratio)
        best: tuple[float, tuple[bool, Unit], tuple[bool, Unit], HostRoom] | None = None
        for host_q in partners:
            if host_q is host_p or stranded_ok(self._free(host_q), ratio):
                continue
            fq = self._free(host_q)
            base = base_p + self.joint(host_q, ratio)
            for own_x, x in on_p:
                ax = self.amounts(x)
                for own_y, y in self._pick(t, host_q, 1, 2):
                    if own_x and own_y:
                        continue
                    ay = self.amounts(y)
                    np_ = [fp[d] + ax[d] - ay[d] for d in range(3)]
                    nq = [fq[d] - ax[d] + ay[d] for d in range(3)]
                    if min(np_) < -1e-9 or min(nq) < -1e-9:
                        continue
                    gain = _joint(np_, ratio) + _joint(nq, ratio) - base
                    if gain > worth and (best is None or gain > best[0]):
                        best = (gain, (own_x, x), (own_y, y), host_q)
        if best is None:
            return False
        _, pick_x, pick_y, host_q = best
        return self._swapped(t, None, pick_x, pick_y, host_p, host_q, None)

    # -- one host ----------------------------------------------------------------------

    def release_one(self, room: HostRoom, own: list[Unit], ejections: int) -> _Try | None:
        """Moves everything off `room` (its own units `own`, and units placed on it) with at
        most `ejections` ejections, or nothing (None)."""
        on = sum(len(u.vms) for u in own)
        on += sum(len(self.placed[u][0].vms) for u in self.landed.get(room.name, ()))
        if on != len(room.vms):
            return None  # it runs a VM that may not move again (ejected onto it)
        for unit in own:
            self._register(unit, room.name, room.name)
        t = _Try(limit=ejections)
        self.gone.add(room.name)
        self.index.discard(room)
        units = [self.placed[u][0] for u in self.landed.get(room.name, ())]
        for unit in sorted(units, key=lambda u: (-self.size(u), u.name)):
            if self.put(t, unit, {room.name}) is None and self.make_room(t, unit, room) is None:
                self.undo(t)
                for u in own:
                    self._unregister(u.uuids)
                self.gone.discard(room.name)
                self.index.update(room)
                return None
        return t


def reclaim(
    run: Reclaim,
    candidates: list[tuple[HostRoom, list[Unit]]],
    moves: int,
    released: int,
) -> list[HostRoom]:
    """Tries `candidates` (a host and its own units, cheapest first) one by one while the round
    stays within MOVES_PER_HOST migrations per released host and the budget (run.ejector.left);
    -> the hosts emptied, in order. `moves`, `released`: the round's so far."""
    out: list[HostRoom] = []
    failures = 0
    kept = [run.state.rooms[n] for n in run.index.names()]
    mem = sum(r.mem_used for r in kept)
    ratio = (mem / max(1, sum(r.vcpus for r in kept)), mem / max(1e-9, sum(r.busy for r in kept)))
    aligned = run.align(ratio, min(run.ejector.left, int(MOVES_PER_HOST * released) - moves))
    moves += aligned.ejections
    for room, units in candidates:
        own = own_units(run.state, room, units, run.ejector.moved)  # some may have moved
        cost = sum(len(u.vms) for u in own)
        allowed = min(run.ejector.left - cost, int(MOVES_PER_HOST * (released + 1)) - moves - cost)
        if allowed < 0:
            failures += 1
        else:
            t = run.release_one(room, own, allowed)
            if t is None:
                failures += 1
            else:
                failures = 0
                run.ejector.left -= cost
                moves += cost + t.ejections
                released += 1
                out.append(room)
        if failures >= GIVE_UP or run.work >= run.most_work:
            break
    if not out:
        run.undo(aligned)  # nothing released: the swaps would be migrations for nothing
    return out


def rebuilt(
    run: Reclaim, drained: list[tuple[HostRoom, list[Placement], str]]
) -> list[tuple[HostRoom, list[Placement], str]]:
    """`drained` with every placement at its unit's current target."""
    out = []
    for room, placements, why in drained:
        now = []
        for pl in placements:
            target = run.state.rooms[run.placed[pl.unit.uuids][2]]
            if target is pl.target:
                now.append(pl)
            else:
                how = run.how.get(pl.unit.uuids, pl.how)
                now.append(Placement(pl.unit, target, target.cpu, target.cpu, how))
        out.append((room, now, why))
    return out


def placements_of(run: Reclaim, room: HostRoom, own: list[Unit]) -> list[Placement]:
    """The placements of a host this pass emptied."""
    out = []
    for unit in own:
        target = run.state.rooms[run.placed[unit.uuids][2]]
        out.append(Placement(unit, target, target.cpu, target.cpu, run.how.get(unit.uuids, "")))
    return out


def own_units(
    state: ClusterState, room: HostRoom, units: list[Unit], moved: set[str]
) -> list[Unit]:
    """The units `room` ran before the round that are all still on it."""
    return [
        u
        for u in units
        if all(state.where[v.uuid] == room.name and v.uuid not in moved for v in u.vms)
    ]
