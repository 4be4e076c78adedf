"""HA restart placement: where each HA VM of a fenced host (or a crashed one) starts again.

Pure: a function of the snapshot. Highest priority first (then the largest, hardest to fit);
each VM goes to a host of its cluster that passes every scheduler filter (state, CPU model,
memory within over-commit, vCPU ratio, affinity, anti-affinity), the best by the balancing
weighers (most CPU headroom, then memory). The load-balancing thresholds do not apply: bringing
a VM back matters more than balance. Each choice carries its reason, like every plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ovtui.model import VM, Snapshot, VmState
from policies.filters import FilterContext, refusal
from policies.params import Params
from policies.state import ClusterState, pct
from policies.weights import SPREAD, Ask, best


@dataclass(frozen=True, slots=True)
class Restart:
    vm_uuid: str
    vm_name: str
    priority: int
    target: str
    reason: str


@dataclass(frozen=True, slots=True)
class Unplaced:
    vm_uuid: str
    vm_name: str
    priority: int
    reason: str


def plan_restarts(
    snap: Snapshot,
    vms: Sequence[VM],
    priorities: Mapping[str, int],
    params: Params | None = None,
    exclude: frozenset[str] = frozenset(),
) -> tuple[list[Restart], list[Unplaced]]:
    """`vms` are down (their `host` is where they ran); `exclude`: hosts not to use."""
    params = params or Params()
    restarts: list[Restart] = []
    unplaced: list[Unplaced] = []
    states: dict[str, ClusterState] = {}
    order = sorted(vms, key=lambda v: (-priorities.get(v.uuid, 0), -v.memory_mib, v.name))
    for vm in order:
        prio = priorities.get(vm.uuid, 0)
        state = states.get(vm.cluster)
        if state is None:
            state = states[vm.cluster] = ClusterState.from_snapshot(snap, vm.cluster)
        # A VM down is not where it was: the filters place it as a newcomer to every host.
        newcomer = replace(vm, state=VmState.SHUTOFF, pinned=False, migratable=True)
        ctx = FilterContext(state, params)
        ok, refused = [], []
        for room in sorted(state.rooms.values(), key=lambda r: r.name):
            if room.name in exclude:
                continue
            why = refusal(ctx, newcomer, room)
            if why:
                refused.append(why)
            else:
                ok.append(room)
        if vm.pinned and not any(r.name == vm.host for r in ok):
            unplaced.append(Unplaced(vm.uuid, vm.name, prio, f"{vm.name} is pinned to {vm.host}"))
            continue
        if vm.pinned:
            ok = [r for r in ok if r.name == vm.host]
        if not ok:
            why = "; ".join(refused[:3]) or f"no host of cluster {vm.cluster} is in service"
            more = f" (and {len(refused) - 3} other hosts)" if len(refused) > 3 else ""
            unplaced.append(Unplaced(vm.uuid, vm.name, prio, why + more))
            continue
        target = best(SPREAD, Ask(0.0, vm.memory_mib), ok)
        reason = (
            f"HA priority {prio}: {target.name} passes every filter and has the most headroom "
            f"(CPU {pct(target.cpu)}, {target.mem_free - vm.memory_mib} MiB left after)"
        )
        target.add(newcomer)
        state.where[vm.uuid] = target.name
        restarts.append(Restart(vm.uuid, vm.name, prio, target.name, reason))
    return restarts, unplaced
