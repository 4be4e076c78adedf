"""Making room on a kept host P for a unit that fits on no kept host (policies.reclaim).

Three ways, each checked with every filter and limit in the state as it stands, each applied
only whole (policies.repack's undo log):

- a unit of P goes to a host Q that takes it (one move);
- a unit x of P and a unit y of a partner Q change places, P short of one resource (vCPUs,
  say) and Q of the other: x and y are units placed by the drains (a new target costs nothing)
  or VMs their hosts ran before the round (ejections). When both are, the two moves run
  before the drains, so they are checked in that state: the units placed on P and Q are set
  aside, the two VMs move in an order that fits, and the placed units come back, each checked
  again (policies.evict: the check holds at least what the cluster carries when they run);
- up to CLEAR smaller units of P go to hosts that take them, those that free most of what P
  lacks first (placed units before P's own VMs).

Bounded: SEEK hosts per resource as P, TRIES units of each for a single move, CLEAR_LOOK units
in all for a clear, PICK units per host for a swap (policies.repack).
"""

from __future__ import annotations

from policies.evict import Ejection
from policies.filters import why_immovable
from policies.placement import Unit, fits_after, solo
from policies.repack import Attempt, Repack
from policies.state import HostRoom

#: Hosts looked at as P per resource, units of each tried for a single move.
SEEK = 6
TRIES = 4
#: Most units moved off a host to make room for one, and units tried in all for it.
CLEAR = 8
CLEAR_LOOK = 16
#: Whether two VMs kept hosts ran may change places (two ejections in an order that fits).
EXCHANGES = True


def make_room(run: Repack, t: Attempt, unit: Unit, gone: HostRoom) -> HostRoom | None:
    """A host P that takes `unit` once one of its units has moved to a host Q that takes
    it; both moves applied. None: no such pair among those looked at (nothing changed)."""
    keep_free = run.params.max_free_memory_over_mib
    seen = {gone.name}

    def fresh(name: str) -> bool:
        return name not in seen

    hosts = run.index.most_room(1, unit.memory_mib + keep_free, SEEK, fresh)
    hosts += run.index.most_room(2, unit.vcpus, SEEK, fresh)
    hosts += run.index.most_room(0, unit.cpu, SEEK // 2, fresh)
    for host_p in hosts:
        if host_p.name in seen:
            continue
        seen.add(host_p.name)
        short = run.short(unit, host_p)
        if not any(short):
            continue  # a filter refuses it: moving a unit away does not help
        for own, w in _movable(run, t, host_p, short, unit):
            mark = len(t.moved)
            if run.put(t, w, {host_p.name, gone.name}) is None:
                continue
            if fits_after(run.state, run.params, unit, host_p):
                run.go(t, unit, host_p)
                _record(run, t, own, w, host_p, unit, gone)
                return host_p
            run.back_to(t, mark)
    for host_p in hosts:
        found = swap(run, t, unit, host_p, gone) or clear(run, t, unit, host_p, gone)
        if found is not None:
            return found
    return None


def _movable(
    run: Repack, t: Attempt, room: HostRoom, short: tuple[float, float, float], unit: Unit
) -> list[tuple[bool, Unit]]:
    """Units on `room` that cover `short` and are smaller than `unit`: placed units first
    (they move anyway), then VMs the host ran before the round (an ejection each)."""
    out: list[tuple[bool, float, str, Unit]] = []
    size = run.size(unit)
    for uuids in run.landed.get(room.name, ()):
        w = run.placed[uuids][0]
        if _covers(w, short) and run.size(w) < size:
            out.append((False, run.size(w), w.name, w))
    if room.name not in run.ejector.frozen and t.ejections < t.limit:
        for vm in room.vms.values():
            if vm.host != room.name or vm.uuid in run.ejector.moved:
                continue  # not one of its own, or it moved already
            if vm.affinity_group or why_immovable(vm):
                continue
            w = solo(run.state, vm)
            if _covers(w, short) and run.size(w) < size:
                out.append((True, run.size(w), w.name, w))
    out.sort(key=lambda x: x[:3])
    return [(own, w) for own, _, _, w in out[:TRIES]]


def _covers(w: Unit, short: tuple[float, float, float]) -> bool:
    return w.cpu + 1e-9 >= short[0] and w.memory_mib >= short[1] and w.vcpus >= short[2]


def clear(run: Repack, t: Attempt, unit: Unit, host_p: HostRoom, gone: HostRoom) -> HostRoom | None:
    """`unit` onto P once up to CLEAR smaller units of P have gone to hosts that take them
    (placed units first, VMs of P's own as ejections), the ones that free most of what P
    lacks first. -> P, every move applied; None: nothing changed."""
    mark, made, looked = len(t.moved), 0, 0
    failed: set[frozenset[str]] = set()
    moved: list[tuple[bool, Unit]] = []
    size = run.size(unit)
    while len(moved) < CLEAR and looked < CLEAR_LOOK:
        short = run.short(unit, host_p)
        if not any(short):
            break
        d = max(range(3), key=lambda i: short[i] / max(1e-9, (unit.cpu, unit.memory_mib,
                                                              unit.vcpus)[i]))  # fmt: skip
        units = [(False, run.placed[u][0]) for u in run.landed.get(host_p.name, ())]
        if made < t.limit - t.ejections:
            units += [(True, w) for w in run.own(t, host_p)]
        tried = {w.uuids for _, w in moved} | failed
        units = [ow for ow in units if run.size(ow[1]) < size and ow[1].uuids not in tried]
        if not units:
            break
        own, w = min(units, key=lambda ow: (ow[0], -(ow[1].cpu, ow[1].memory_mib,
                                            ow[1].vcpus)[d], ow[1].name))  # fmt: skip
        looked += 1
        if run.put(t, w, {host_p.name, gone.name}) is None:
            failed.add(w.uuids)
            continue
        moved.append((own, w))
        made += own
    if moved and fits_after(run.state, run.params, unit, host_p):
        run.go(t, unit, host_p)
        for own, w in moved:
            _record(run, t, own, w, host_p, unit, gone)
        return host_p
    run.back_to(t, mark)
    return None


def swap(run: Repack, t: Attempt, unit: Unit, host_p: HostRoom, gone: HostRoom) -> HostRoom | None:
    """`unit` onto P once a unit x on P and a unit y on a partner Q change places, P short
    of one resource and Q of the other. x and y are units placed in this round (a new
    target costs nothing) or, one of the two, a VM its host ran before the round (an
    ejection). -> P, every move applied; None: nothing changed."""
    fp = run.free(host_p)
    need = (unit.cpu, float(unit.memory_mib), float(unit.vcpus))
    lack = [n - f for n, f in zip(need, fp, strict=True)]
    if all(x <= 1e-9 for x in lack):
        return None
    dim = 2 if lack[2] > 0 else 1  # what P lacks most often: vCPUs, else memory
    other = 3 - dim
    seen = {host_p.name, gone.name}
    partners = run.index.most_room(dim, max(lack[dim], 1.0), SEEK, lambda n: n not in seen)
    on_p = run.pick(t, host_p, dim, other)
    if not on_p:
        return None
    for host_q in partners:
        fq = run.free(host_q)
        on_q = run.pick(t, host_q, other, dim)
        for own_x, x in on_p:
            ax = run.amounts(x)
            for own_y, y in on_q:
                if own_x and own_y and not exchangeable(run, t, x, y, host_p, host_q):
                    continue
                ay = run.amounts(y)
                if all(
                    fp[d] + ax[d] - ay[d] - need[d] >= -1e-9 and fq[d] - ax[d] + ay[d] >= -1e-9
                    for d in range(3)
                ) and swapped(run, t, unit, (own_x, x), (own_y, y), host_p, host_q, gone):
                    return host_p
    return None


def swapped(
    run: Repack,
    t: Attempt,
    unit: Unit | None,
    x: tuple[bool, Unit],
    y: tuple[bool, Unit],
    host_p: HostRoom,
    host_q: HostRoom,
    gone: HostRoom | None,
) -> bool:
    (own_x, ux), (own_y, uy) = x, y
    if own_x and own_y:
        return _exchanged(run, t, unit, ux, uy, host_p, host_q, gone)
    mark = len(t.moved)
    free = uy if own_x else ux  # the placed one goes back to where it comes from, for now
    run.go(t, free, run.state.rooms[run.placed[free.uuids][1]])
    order = ((ux, host_q), (uy, host_p)) if own_x else ((uy, host_p), (ux, host_q))
    for u, to in (*order, *(((unit, host_p),) if unit is not None else ())):
        if not fits_after(run.state, run.params, u, to):
            run.back_to(t, mark)
            return False
        run.go(t, u, to)
    why = (
        f"{ux.name} goes to {host_q.name} and {uy.name} to {host_p.name}, so that "
        f"{host_p.name} has the room for {unit.name} and {gone.name} can be released"
        if unit is not None and gone is not None
        else f"{ux.name} goes to {host_q.name} and {uy.name} to {host_p.name}: the free "
        "memory of one and the free vCPUs of the other end up together"
    )
    for own, u, source, target in ((own_x, ux, host_p, host_q), (own_y, uy, host_q, host_p)):
        if own:
            run.ejector.add(Ejection(u, source, target, f"{u.name} moves first: {why}",
                                      gone.name if gone is not None else ""))  # fmt: skip
            t.ejections += 1
        else:
            run.how[u.uuids] = why
    return True


def exchangeable(run: Repack, t: Attempt, x: Unit, y: Unit, p: HostRoom, q: HostRoom) -> bool:
    """Whether two VMs that kept hosts ran before the round (x on p, y on q) may change places:
    two ejections left, and, by the numbers, one of the two orders fits when they run (before
    the drains: without the units placed on p and q)."""
    if not EXCHANGES or t.ejections + 2 > t.limit:
        return False
    fp, fq = run.before_drains(p), run.before_drains(q)
    ax, ay = run.amounts(x), run.amounts(y)
    y_first = all(fp[d] >= ay[d] and fq[d] + ay[d] >= ax[d] for d in range(3))
    x_first = all(fq[d] >= ax[d] and fp[d] + ax[d] >= ay[d] for d in range(3))
    return y_first or x_first


def _exchanged(
    run: Repack,
    t: Attempt,
    unit: Unit | None,
    ux: Unit,
    uy: Unit,
    host_p: HostRoom,
    host_q: HostRoom,
    gone: HostRoom | None,
) -> bool:
    """x (P's own) to Q and y (Q's own) to P, two ejections, checked as they run: before the
    drains, so with the units placed on P and Q set aside (back where they come from), which
    then come back, each checked again; then `unit` onto P."""
    mark = len(t.moved)
    aside = [(run.placed[u][0], room) for room in (host_p, host_q)
             for u in sorted(run.landed.get(room.name, ()), key=sorted)]  # fmt: skip
    for w, _ in aside:
        run.go(t, w, run.state.rooms[run.placed[w.uuids][1]])
    done: tuple[tuple[Unit, HostRoom, HostRoom], ...] = ()
    for order in (((uy, host_q, host_p), (ux, host_p, host_q)),
                  ((ux, host_p, host_q), (uy, host_q, host_p))):  # fmt: skip
        step = len(t.moved)
        for u, _, to in order:
            if not fits_after(run.state, run.params, u, to):
                run.back_to(t, step)
                break
            run.go(t, u, to)
        else:
            done = order
            break
    back = [*aside, *(((unit, host_p),) if unit is not None else ())]
    for w, room in back if done else ():
        if not fits_after(run.state, run.params, w, room):
            done = ()
            break
        run.go(t, w, room)
    if not done:
        run.back_to(t, mark)
        return False
    why = (
        f"{ux.name} and {uy.name} change places between {host_p.name} and {host_q.name}, so "
        + (f"that {host_p.name} has the room for {unit.name}" if unit is not None else "that "
           "the free memory of one and the free vCPUs of the other end up together")
    )  # fmt: skip
    for u, source, target in done:
        run.ejector.add(Ejection(u, source, target, f"{u.name} moves first: {why}",
                                  gone.name if gone is not None else ""))  # fmt: skip
        t.ejections += 1
    return True


def _record(
    run: Repack, t: Attempt, own: bool, w: Unit, host_p: HostRoom, unit: Unit, gone: HostRoom
) -> None:
    host_q = run.state.where[w.vms[0].uuid]
    if own:
        why = (
            f"{w.name} moves first, from {host_p.name} to {host_q}, so that {host_p.name} "
            f"has the room for {unit.name} and {gone.name} can be released"
        )
        run.ejector.add(Ejection(w, host_p, run.state.rooms[host_q], why, gone.name))
        t.ejections += 1
    else:
        run.how[w.uuids] = (
            f"{host_q} takes {w.name} rather than {host_p.name}, so that {host_p.name} has "
            f"the room for {unit.name} and {gone.name} can be released"
        )
