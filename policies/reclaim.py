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

from policies.align import align
from policies.placement import Placement, Unit
from policies.repack import Attempt, Repack
from policies.room import make_room
from policies.state import ClusterState, HostRoom

#: Most migrations per released host the whole round may reach through this pass.
MOVES_PER_HOST = 17.0
#: Failed hosts in a row after which the pass stops.
GIVE_UP = 24


def release_one(run: Repack, room: HostRoom, own: list[Unit], ejections: int) -> Attempt | None:
    """Moves everything off `room` (its own units `own`, and units placed on it) with at
    most `ejections` ejections, or nothing (None)."""
    on = sum(len(u.vms) for u in own)
    on += sum(len(run.placed[u][0].vms) for u in run.landed.get(room.name, ()))
    if on != len(room.vms):
        return None  # it runs a VM that may not move again (ejected onto it)
    for unit in own:
        run._register(unit, room.name, room.name)
    t = Attempt(limit=ejections)
    run.gone.add(room.name)
    run.index.discard(room)
    units = [run.placed[u][0] for u in run.landed.get(room.name, ())]
    for unit in sorted(units, key=lambda u: (-run.size(u), u.name)):
        if run.put(t, unit, {room.name}) is None and make_room(run, t, unit, room) is None:
            run.undo(t)
            for u in own:
                run._unregister(u.uuids)
            run.gone.discard(room.name)
            run.index.update(room)
            return None
    return t


def reclaim(
    run: Repack,
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
    aligned = align(run, ratio, min(run.ejector.left, int(MOVES_PER_HOST * released) - moves))
    moves += aligned.ejections
    for room, units in candidates:
        own = own_units(run.state, room, units, run.ejector.moved)  # some may have moved
        cost = sum(len(u.vms) for u in own)
        allowed = min(run.ejector.left - cost, int(MOVES_PER_HOST * (released + 1)) - moves - cost)
        if allowed < 0:
            failures += 1
        else:
            t = release_one(run, room, own, allowed)
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
    run: Repack, drained: list[tuple[HostRoom, list[Placement], str]]
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


def placements_of(run: Repack, room: HostRoom, own: list[Unit]) -> list[Placement]:
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
