"""A plan's premises, checked again against the current snapshot right before each step.

A plan is computed on one snapshot and applied later (seconds for automatic mode, maybe hours
for an operator's approval). Each check returns None when the step still makes sense, or why
not; the executor then stops the plan instead of acting on a world that has changed.
"""

from __future__ import annotations

from collections.abc import Sequence

from ovtui.model import HostState, Snapshot
from policies.filters import FilterContext, refusal
from policies.params import Params
from policies.placement import Unit, within_thresholds
from policies.plan import Step, StepKind
from policies.state import ClusterState, pct


def migrate_premise(
    snap: Snapshot,
    step: Step,
    params: Params,
    plan_moves: Sequence[Step] = (),
    in_flight: Sequence[Step] = (),
) -> str | None:
    """The VM is still active on the source and the target still takes it within the limits.

    plan_moves: every migration of the plan (members of an affinity group moving to the same
    host count for each other); in_flight: moves started in this run that the snapshot may not
    show yet (they count as done).
    """
    vm = snap.vm(step.vm_uuid)
    if vm is None:
        return f"{step.vm_name} no longer exists"
    if vm.host != step.host:
        return f"{vm.name} now runs on {vm.host}, not {step.host}"
    if not vm.active:
        return f"{vm.name} is {vm.state.value}"
    state = ClusterState.from_snapshot(snap, vm.cluster)
    for other in in_flight:
        moving = state.rooms.get(other.host, None)
        if moving is not None and other.vm_uuid in moving.vms and other.target in state.rooms:
            state.move(moving.vms[other.vm_uuid], other.target)
    room = state.rooms.get(step.target)
    if room is None:
        return f"{step.target} is no longer a host of {vm.cluster}"
    companions = frozenset(
        s.vm_uuid for s in plan_moves if s.host == step.host and s.target == step.target
    )
    why = refusal(FilterContext(state, params, companions), vm, room)
    if why is None:
        why = within_thresholds(params, Unit.of((vm,)), room)
        if why and step.target_cpu_after is not None:
            why += f" (planned {pct(step.target_cpu_after)})"
    return why


def host_premise(snap: Snapshot, step: Step) -> str | None:
    """Maintenance: the host is in service and empty. Power off: in maintenance and empty.
    Power on and activate: the host is in maintenance (released, not taken back by someone)."""
    host = snap.host(step.host)
    if host is None:
        return f"{step.host} is no longer in the inventory"
    running = [v.name for v in snap.vms_on(host.name) if v.active]
    if step.kind == StepKind.MAINTENANCE:
        if host.maintenance:
            return f"{host.name} is already in maintenance"
        if host.state != HostState.UP:
            return f"{host.name} is {host.state.value}"
        if running:
            return f"{host.name} still runs {', '.join(running[:5])}"
        return None
    if not host.maintenance:
        return f"{host.name} is no longer in maintenance (someone returned it to service)"
    if step.kind == StepKind.POWER_OFF and running:
        return f"{host.name} runs {', '.join(running[:5])}: it will not be powered off"
    return None
