"""Where a VM that runs nowhere should run: a new VM, or a down VM about to start.

In oVirt a down VM belongs to its cluster, not to a host; starting it chooses the best host at
that moment. This is that choice: every filter (except "movable": a VM that runs nowhere is not
being moved, and being pinned or non-migratable says nothing about where it first starts) for
every host of the cluster, then the weighers among the hosts that pass. The answer says why, in
the words an operator reads: "h2: the most free memory among 3 hosts that pass the filters".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ovtui.model import VM, Snapshot
from policies.filters import FILTERS, FilterContext, refusal
from policies.filters.movable import MovableFilter
from policies.params import Params
from policies.state import ClusterState, gib
from policies.weights import Ask, CpuWeigher, MemoryWeigher, Weigher, weigh

#: Free memory first (a new VM's CPU demand is unknown), then CPU headroom.
START: tuple[Weigher, ...] = (MemoryWeigher(1.0), CpuWeigher(0.25))
_FILTERS = tuple(f for f in FILTERS if not isinstance(f, MovableFilter))


@dataclass(frozen=True, slots=True)
class Choice:
    host: str | None
    reason: str  # why this host, or why none
    passed: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()  # (host, why)


def choose_host(
    snap: Snapshot,
    vm: VM,
    params: Params,
    *,
    only: str | None = None,
    weighers: Sequence[Weigher] = START,
) -> Choice:
    """The host of vm.cluster where `vm` (running nowhere) should start; `only`: the operator
    named a host, which must still pass the filters."""
    state = ClusterState.from_snapshot(snap, vm.cluster)
    state.where.pop(vm.uuid, None)  # it may be defined on a host: it runs on none
    for room in state.rooms.values():
        if vm.uuid in room.vms:
            room.remove(room.vms[vm.uuid])
    ctx = FilterContext(state, params)
    rooms = sorted(state.rooms.values(), key=lambda r: r.name)
    if only is not None:
        rooms = [r for r in rooms if r.name == only]
        if not rooms:
            return Choice(None, f"host {only} is not in cluster {vm.cluster}")
    if not rooms:
        return Choice(None, f"cluster {vm.cluster} has no hosts")
    ok, refused = [], []
    for room in rooms:
        why = refusal(ctx, vm, room, _FILTERS)
        if why is None and not room.in_service:
            why = f"{room.name} is {room.host.state.value}"
        if why is None:
            ok.append(room)
        else:
            refused.append((room.name, why))
    if not ok:
        text = "; ".join(why for _, why in refused)
        return Choice(None, f"no host can run {vm.name}: {text}", (), tuple(refused))
    ask = Ask(0.0, vm.memory_mib)
    totals = weigh(weighers, ask, ok)
    i = max(range(len(ok)), key=lambda k: (totals[k], -k))
    target = ok[i]
    n = len(ok)
    among = f"among {n} hosts that pass the filters" if n > 1 else "the only host that passes"
    if only is not None:
        why = "the host asked for; it passes the filters"
    elif n == 1:
        why = among
    elif target.mem_free == max(r.mem_free for r in ok):
        why = f"the most free memory ({gib(target.mem_free)}) {among}"
    else:
        why = f"the best weight (free memory, then CPU headroom) {among}"
    return Choice(target.name, f"{target.name}: {why}", tuple(r.name for r in ok), tuple(refused))
