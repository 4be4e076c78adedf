"""Releasing the hosts a consolidation emptied: maintenance, then power off where configured."""

from __future__ import annotations

from policies.history import Observations
from policies.params import Params
from policies.plan import Step, StepKind
from policies.state import ClusterState, HostRoom


def cooling(room: HostRoom, params: Params, obs: Observations) -> float | None:
    """Seconds since the host's last power action when that is too recent, else None."""
    last = obs.last_power_action.get(room.name)
    if last is None or obs.now - last >= params.power_interval_s:
        return None
    return obs.now - last


def _release_steps(room: HostRoom, why: str) -> list[Step]:
    room.in_service = False
    if room.host.power_management:
        return [
            Step(StepKind.MAINTENANCE, room.name, why),
            Step(StepKind.POWER_OFF, room.name, f"{room.name} is released: power it off"),
        ]
    return [
        Step(StepKind.MAINTENANCE, room.name, f"{why}; no power management: host left in "
             "maintenance")
    ]  # fmt: skip


def release(
    state: ClusterState,
    params: Params,
    obs: Observations,
    running: list[HostRoom],
    drained: list[tuple[HostRoom, list[Step]]],
    notes: list[str],
    first: list[Step] | None = None,
) -> tuple[list[Step], list[str]]:
    """Releases empty hosts beyond HostsInReserve (power-managed and small ones first), each
    right after the moves that emptied it; if none can go, every drain is taken back.
    `first`: moves between kept hosts that come before every drain (policies.evict)."""
    first = first or []
    empties = [r for r in running if r.empty]
    reserve = params.hosts_in_reserve
    releasable = [r for r in empties if cooling(r, params, obs) is None]
    count = min(len(empties) - reserve, len(releasable), len(running) - 1)
    if count <= 0:
        for step in reversed(first + [s for _, moves in drained for s in moves]):
            vm = state.rooms[step.target].vms[step.vm_uuid]
            state.move(vm, step.host)
        if drained or empties:
            notes.append(
                f"{len(empties)} empty host(s) in service, HostsInReserve is {reserve}: "
                "nothing to release, so nothing is drained"
            )
        return [], notes
    chosen = sorted(releasable, key=lambda r: (not r.host.power_management, r.cpus, r.name))
    names = {r.name for r in chosen[:count]}
    why = f"{len(empties)} empty host(s) in service, {reserve} kept in reserve (HostsInReserve)"
    steps: list[Step] = list(first)
    for room, moves in drained:
        steps += moves
        if room.name in names:
            steps += _release_steps(room, f"{room.name} is empty after the moves above; {why}")
        else:
            notes.append(f"{room.name} is drained and kept in reserve (HostsInReserve {reserve})")
    drained_names = {room.name for room, _ in drained}
    for room in chosen[:count]:
        if room.name not in drained_names:
            steps += _release_steps(room, f"{room.name} is empty; {why}")
    return steps, notes
