"""Packing a batch of hosts to drain onto the hosts kept (see policies.consolidation, step 4).

Every VM of the batch (as units: an affinity group moves whole) is placed, largest first, on
the fullest kept host that stays within every limit; a memory-rich VM may instead go where
memory is idle once a vCPU-heavy VM of that host moves away (policies.evict, demand mode).
When a unit fits nowhere, the targets of two units placed earlier may swap to make room for
it (policies.swap), or a VM a kept host runs may move to make it (policies.evict); failing
that, one more host is kept: the most useful host of the batch (the largest) if it is more
useful than the unit's own host and would take the unit, else the unit's own host. A kept host
of the batch gets its VMs back (no step has been written for them) and takes VMs from then on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from policies.evict import Ejector, eject_for
from policies.keepers import Need, capacity, nominal
from policies.params import Params
from policies.placement import Headroom, Placement, Unit, place_packed
from policies.state import ClusterState, HostRoom, pct
from policies.swap import make_room
from policies.weights import PACK

#: Packing weighs the first hosts that take a VM, least room first. Four rather than
#: placement's 16 halves the planning time at 1000x20000 and changed the hosts kept by at most
#: one in bench/policy_figures.py.
SHORTLIST = 4


@dataclass(frozen=True, slots=True)
class Sizer:
    """Sizes for largest-first packing: each resource as a share of what the kept hosts can
    carry, weighted by how tight that resource is there (a memory-bound cluster sorts by
    memory). The same weights rank hosts, to pick the most useful one to keep."""

    weights: tuple[float, float, float]
    params: Params
    cpu_share: float
    # per unit (its VMs' uuids): its size, asked for again by every pass that sorts units
    sizes: dict[frozenset[str], float] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(
        cls, running: list[HostRoom], keep: list[HostRoom], params: Params, cpu_share: float
    ) -> Sizer:
        need = Need.of(running).as_tuple()
        caps = [sum(c) for c in zip(*(capacity(r, params, cpu_share) for r in keep), strict=True)]
        weights = tuple(n / c / c if c > 0 else 0.0 for n, c in zip(need, caps, strict=True))
        return cls(weights, params, cpu_share)  # type: ignore[arg-type]

    def unit(self, unit: Unit) -> float:
        size = self.sizes.get(unit.uuids)
        if size is None:
            amounts = (unit.cpu, unit.memory_mib, unit.vcpus)
            size = sum(w * a for w, a in zip(self.weights, amounts, strict=True))
            self.sizes[unit.uuids] = size
        return size

    def host(self, room: HostRoom) -> float:
        caps = nominal(room, self.params, self.cpu_share)
        return sum(w * c for w, c in zip(self.weights, caps, strict=True))


@dataclass(slots=True)
class Packing:
    """One packing pass over a batch of hosts to drain (see `_pack`)."""

    state: ClusterState
    params: Params
    index: Headroom
    placed: dict[str, list[Placement]]
    failed: dict[str, str]
    spare: list[HostRoom]  # batch hosts that may be kept instead, most useful last
    # per target: the units placed on it, by their VMs' uuids -> (their source, placement)
    landed: dict[str, dict[frozenset[str], tuple[str, Placement]]] = field(default_factory=dict)
    ejector: Ejector | None = None  # set: ejections (policies.evict) may make room

    def land(self, source: str, found: Placement) -> None:
        self.placed[source].append(found)
        self.landed.setdefault(found.target.name, {})[found.unit.uuids] = (source, found)
        if self.ejector is not None:
            self.ejector.moved |= found.unit.uuids  # placed: it moves once, not ejected

    def retarget(self, source: str, old: Placement, target: HostRoom, how: str) -> None:
        """A placed unit goes to `target` instead (the state already says so)."""
        new = Placement(old.unit, target, old.cpu_before, old.cpu_after, how)
        done = self.placed[source]
        done[next(i for i, pl in enumerate(done) if pl is old)] = new
        del self.landed[old.target.name][old.unit.uuids]
        self.landed.setdefault(target.name, {})[old.unit.uuids] = (source, new)

    def put(self, unit: Unit) -> tuple[Placement | None, str]:
        params = self.params
        none = f"no host in service has {unit.cpu:.1f} CPUs free below {pct(params.high)}"
        found, why = place_packed(self.state, params, unit, self.index, PACK, SHORTLIST,
                                  none_left=none)  # fmt: skip
        if found is not None:
            for vm in unit.vms:
                self.state.move(vm, found.target.name)
            self.index.update(found.target)
        return found, why

    def keep(self, room: HostRoom, why: str) -> None:
        """`room` stays: its placed VMs come back (no step written yet) and it takes VMs."""
        self.failed[room.name] = why
        for undo in reversed(self.placed.pop(room.name)):
            del self.landed[undo.target.name][undo.unit.uuids]
            if self.ejector is not None:
                self.ejector.moved -= undo.unit.uuids
            for vm in undo.unit.vms:
                self.state.move(vm, room.name)
            self.index.update(undo.target)
        self.index.update(room)
        if self.ejector is not None:
            self.ejector.take_back(self, room.name)

    def would_take(self, room: HostRoom, unit: Unit) -> bool:
        """Whether `room`, with its own VMs back, has the room for `unit` (numbers only)."""
        back = self.placed[room.name]
        cpu = room.busy + room.overhead + sum(p.unit.cpu for p in back) + unit.cpu
        mem = room.mem_used + sum(p.unit.memory_mib for p in back) + unit.memory_mib
        vcpus = room.vcpus + sum(p.unit.vcpus for p in back) + unit.vcpus
        p = self.params
        return (
            cpu <= p.high * room.cpus
            and mem <= room.mem_limit - p.max_free_memory_over_mib
            and vcpus <= p.max_vcpus_per_cpu * room.cpus
        )


def pack(
    state: ClusterState,
    params: Params,
    batch: list[HostRoom],
    units_of: dict[str, list[Unit]],
    index: Headroom,
    sizer: Sizer,
    ejector: Ejector | None = None,
) -> tuple[dict[str, list[Placement]], dict[str, str]]:
    """Places every unit of `batch` (applied to `state`), largest first, on the kept hosts.
    When a unit fits nowhere, a host of the batch is kept instead: the most useful one (the
    largest) if it is more useful than the unit's own host and would take the unit, else the
    unit's own host, which then keeps all its VMs. Either becomes a target.
    -> placements per drained host, and why each host of the batch that stays could not go."""
    items = sorted(
        ((u, r) for r in batch for u in units_of[r.name]),
        key=lambda ur: (-sizer.unit(ur[0]), ur[0].name),
    )
    spare = sorted(batch, key=lambda r: (sizer.host(r), len(r.vms), r.name))
    run = Packing(state, params, index, {r.name: [] for r in batch}, {}, spare, ejector=ejector)
    for unit, room in items:
        if room.name in run.failed:
            continue
        if eject_for(run, unit, room.name, by_choice=True) is not None:
            continue  # a memory-rich VM where memory is idle (and recorded)
        found, why = run.put(unit)
        if found is None and make_room(run, unit, room.name) is not None:
            continue  # placed after a swap (and recorded)
        if found is None and eject_for(run, unit, room.name) is not None:
            continue  # placed after an ejection (and recorded)
        while found is None:
            while run.spare and run.spare[-1].name in run.failed:
                run.spare.pop()
            other = run.spare[-1] if run.spare else room
            if other is room or sizer.host(other) <= sizer.host(room):
                under = f"is under {pct(params.low)} but " if params.mode != "demand" else ""
                run.keep(room, f"{room.name} {under}cannot be drained: {unit.name}: {why}")
                break
            if not run.would_take(other, unit):
                run.spare.pop()  # it would not help this unit; it may still be drained
                continue
            run.keep(other, f"{other.name} stays, to take {unit.name}, which fits on no kept "
                     f"host ({why})")  # fmt: skip
            found, why = run.put(unit)
        if found is not None:
            run.land(room.name, found)
    return run.placed, run.failed
