"""Power saving ("power_saving"): pack VMs onto fewer hosts, release the rest, wake them on demand.

One round, in this order (the first that applies ends the round, except 2 which may precede 3):

1. Wake: when the demand of the hosts in service exceeds what they can take below
   HighUtilization (CPU, or memory keeping MaxFreeMemoryForOverUtilized free), or fewer than
   HostsInReserve empty hosts are in service, hosts this policy released come back (power on
   where the host has power management and is off, then activate), largest first. Capacity
   comes first: waking is never delayed.
2. Relieve: over-utilised hosts are relieved as in balancing (policies.balance.relieve, but
   onto the fullest host that stays within the thresholds, so idle hosts stay drainable); a host
   that stays over with released hosts available wakes one of them. While any host stays over
   its limits, nothing is consolidated.
3. Consolidate (only when asked, i.e. inside the power-saving window): hosts under
   LowUtilization (and with at least MinFreeMemoryForUnderUtilized free) are drained, cheapest
   first, onto hosts in service that stay within the thresholds (PACK weighers: the fullest host
   that still fits), all of a host's VMs or none, within MaxMigrationsPerRound. A host that
   received VMs is not drained in the same round (no VM moves twice). Empty hosts beyond
   HostsInReserve are released (maintenance, then power off where configured); at least one
   host stays in service. If nothing would be released, nothing is drained.

Hysteresis: draining needs LowUtilization, waking needs more than HighUtilization of demand, and a
host is neither drained nor released within MinPowerActionIntervalMinutes of its last power
action, so hosts do not flap.
"""

from __future__ import annotations

from ovtui.model import HostState, Snapshot
from policies.balance import find_sources, relieve
from policies.history import Observations
from policies.params import Params
from policies.placement import Headroom, Placement, Unit, place, units_on
from policies.plan import Plan, Step, StepKind
from policies.report import finish
from policies.state import ClusterState, HostRoom, gib, pct
from policies.weights import PACK

_CONNECTED = (HostState.UP, HostState.MAINTENANCE, HostState.NON_OPERATIONAL)


def _parked(state: ClusterState, obs: Observations) -> list[HostRoom]:
    rooms = [r for r in state.rooms.values() if r.name in obs.parked and not r.in_service]
    return sorted(rooms, key=lambda r: (-r.cpus, r.name))


def _wake_steps(room: HostRoom, reason: str) -> list[Step]:
    steps = []
    if room.host.state not in _CONNECTED:
        steps.append(Step(StepKind.POWER_ON, room.name, f"{reason}: power it on"))
    steps.append(Step(StepKind.ACTIVATE, room.name, f"{reason}: return it to service"))
    room.in_service = True
    return steps


def _can_wake(room: HostRoom) -> bool:
    return room.host.state in _CONNECTED or room.host.power_management


def wake_for_demand(
    state: ClusterState, params: Params, obs: Observations
) -> tuple[list[Step], list[str]]:
    parked = [r for r in _parked(state, obs) if _can_wake(r)]
    notes = [
        f"{r.name} was released but is unreachable and has no power management: it cannot be woken"
        for r in _parked(state, obs)
        if not _can_wake(r)
    ]
    if not parked:
        return [], notes
    running = state.in_service()
    cpu_need = sum(r.busy + r.overhead for r in running)
    cpu_cap = sum(params.high * r.cpus for r in running)
    mem_need = sum(r.mem_used for r in running)
    mem_cap = sum(r.mem_limit - params.max_free_memory_over_mib for r in running)
    missing_reserve = params.hosts_in_reserve - sum(1 for r in running if r.empty)
    steps: list[Step] = []
    for room in parked:
        if cpu_need > cpu_cap:
            why = (
                f"{state.cluster.name} needs {cpu_need:.1f} CPUs, its hosts in service take "
                f"{cpu_cap:.1f} below {pct(params.high)}"
            )
        elif mem_need > mem_cap:
            why = (
                f"{state.cluster.name} has {gib(mem_need)} committed, its hosts in service hold "
                f"{gib(max(mem_cap, 0))} while keeping {gib(params.max_free_memory_over_mib)} free"
            )
        elif missing_reserve > 0:
            why = (
                f"{state.cluster.name} has fewer empty hosts than HostsInReserve "
                f"({params.hosts_in_reserve})"
            )
            missing_reserve -= 1
        else:
            break
        steps += _wake_steps(room, f"{why}; {room.name} ({room.cpus} CPUs) comes back")
        cpu_cap += params.high * room.cpus
        mem_cap += room.mem_limit - params.max_free_memory_over_mib
    return steps, notes


def _cooling(room: HostRoom, params: Params, obs: Observations) -> float | None:
    """Seconds since the host's last power action when that is too recent, else None."""
    last = obs.last_power_action.get(room.name)
    if last is None or obs.now - last >= params.power_interval_s:
        return None
    return obs.now - last


def _drain(
    state: ClusterState, params: Params, room: HostRoom, index: Headroom
) -> tuple[list[tuple[Unit, Placement]], str]:
    """Moves every VM off `room` (applied to `state`), or none and why."""
    units, blocked = units_on(state, room)
    if blocked:
        return [], "; ".join(blocked)
    done: list[tuple[Unit, Placement]] = []
    for unit in sorted(units, key=lambda u: (-u.memory_mib, -u.cpu, u.name)):
        room_for = f"no host in service has {unit.cpu:.1f} CPUs free below {pct(params.high)}"
        hosts = index.candidates(unit, params.max_free_memory_over_mib, pack=True)
        found, why = place(state, params, unit, hosts, PACK, none_left=room_for)
        if found is None:
            for undo, was in reversed(done):
                for vm in undo.vms:
                    state.move(vm, room.name)
                index.update(was.target)
            return [], f"{unit.name}: {why}"
        for vm in unit.vms:
            state.move(vm, found.target.name)
        index.update(found.target)
        done.append((unit, found))
    return done, ""


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


def consolidate(
    state: ClusterState,
    params: Params,
    obs: Observations,
    budget: int,
    received: frozenset[str] = frozenset(),
) -> tuple[list[Step], list[str]]:
    """Drain and release (see the module doc). `received`: hosts that got VMs earlier in the
    round; they are not drained, so that no VM moves twice."""
    notes: list[str] = []
    running = sorted(state.in_service(), key=lambda r: r.name)
    if len(running) < 2:
        return [], [f"{state.cluster.name} has {len(running)} host in service: nothing to pack"]
    candidates: list[HostRoom] = []
    for room in running:
        if room.empty or room.host.cpu_usage is None or room.cpu >= params.low:
            continue
        if room.mem_free < params.min_free_memory_under_mib:
            continue
        since = _cooling(room, params, obs)
        if since is not None:
            notes.append(
                f"{room.name} is under {pct(params.low)} but its last power action was "
                f"{since / 60:.0f} min ago (MinPowerActionIntervalMinutes "
                f"{params.power_interval_s / 60:g}): not drained yet"
            )
            continue
        candidates.append(room)
    candidates.sort(key=lambda r: (len(r.vms), r.mem_used, r.name))
    index = Headroom([r for r in running if not r.empty], params.high, params.max_vcpus_per_cpu)
    receivers: set[str] = set(received)
    drained: list[tuple[HostRoom, list[Step]]] = []
    left = budget
    for room in candidates:
        if room.name in receivers:
            continue
        count = len(room.vms)
        if count > left:
            notes.append(
                f"{room.name} ({pct(room.cpu)} CPU) would need {count} migrations; "
                f"{left} left this round (MaxMigrationsPerRound {params.max_migrations})"
            )
            continue
        cpu_before = room.cpu
        index.discard(room)
        done, why = _drain(state, params, room, index)
        if not done:
            index.update(room)
            notes.append(f"{room.name} is under {pct(params.low)} but cannot be drained: {why}")
            continue
        moves = []
        for unit, pl in done:
            reason = (
                f"{room.name} CPU {pct(cpu_before)} < {pct(params.low)} (LowUtilization): "
                f"draining it frees a host; {pl.target.name} is the fullest host that takes "
                f"{unit.name} and stays within limits (CPU {pct(pl.cpu_before)} → "
                f"{pct(pl.cpu_after)})"
            )
            receivers.add(pl.target.name)
            moves += [
                Step(StepKind.MIGRATE, room.name, reason, vm.uuid, vm.name, pl.target.name,
                     vm.memory_mib, round(pl.cpu_after, 4))
                for vm in unit.vms
            ]  # fmt: skip
        drained.append((room, moves))
        left -= count
    return _release(state, params, obs, running, drained, notes)


def _release(
    state: ClusterState,
    params: Params,
    obs: Observations,
    running: list[HostRoom],
    drained: list[tuple[HostRoom, list[Step]]],
    notes: list[str],
) -> tuple[list[Step], list[str]]:
    empties = [r for r in running if r.empty]
    reserve = params.hosts_in_reserve
    releasable = [r for r in empties if _cooling(r, params, obs) is None]
    count = min(len(empties) - reserve, len(releasable), len(running) - 1)
    if count <= 0:
        for room, moves in reversed(drained):
            for step in reversed(moves):
                vm = state.rooms[step.target].vms[step.vm_uuid]
                state.move(vm, room.name)
        if drained or empties:
            notes.append(
                f"{len(empties)} empty host(s) in service, HostsInReserve is {reserve}: "
                "nothing to release, so nothing is drained"
            )
        return [], notes
    release = sorted(releasable, key=lambda r: (not r.host.power_management, r.cpus, r.name))
    chosen = {r.name for r in release[:count]}
    why = f"{len(empties)} empty host(s) in service, {reserve} kept in reserve (HostsInReserve)"
    steps: list[Step] = []
    for room, moves in drained:
        steps += moves
        if room.name in chosen:
            steps += _release_steps(room, f"{room.name} is empty after the moves above; {why}")
        else:
            notes.append(f"{room.name} is drained and kept in reserve (HostsInReserve {reserve})")
    drained_names = {room.name for room, _ in drained}
    for room in release[:count]:
        if room.name not in drained_names:
            steps += _release_steps(room, f"{room.name} is empty; {why}")
    return steps, notes


def plan_power_saving(
    snap: Snapshot, cluster: str, params: Params, obs: Observations, *, consolidate_now: bool = True
) -> Plan:
    """The power-saving plan for one cluster. `consolidate_now` False (outside the power-saving
    window) still wakes hosts and relieves hot ones, but drains and releases nothing."""
    state = ClusterState.from_snapshot(snap, cluster)
    before = state.loads()
    steps, notes = wake_for_demand(state, params, obs)
    if steps:
        return finish(state, "power_saving", before, steps, notes, (), params, obs)
    moves, more = relieve(state, params, obs, params.max_migrations, pack=True)
    steps, notes = moves, notes + more
    still, _ = find_sources(state, params, obs)
    if still:
        parked = [r for r in _parked(state, obs) if _can_wake(r)]
        if parked:
            room = parked[0]
            why = (
                f"{still[0].room.name} stays over its limits after every possible move; "
                f"{room.name} ({room.cpus} CPUs) comes back to take load"
            )
            steps += _wake_steps(room, why)
    if still:
        if consolidate_now:
            notes.append("hosts are over their limits: no consolidation this round")
        return finish(state, "power_saving", before, steps, notes, (), params, obs)
    if consolidate_now:
        received = frozenset(s.target for s in steps)
        more_steps, more = consolidate(
            state, params, obs, params.max_migrations - len(steps), received
        )
        steps, notes = steps + more_steps, notes + more
    else:
        notes.append(
            "balancing round: no host is drained or released (the power_saving round does "
            "that, inside the cluster's power-saving window)"
        )
    return finish(state, "power_saving", before, steps, notes, (), params, obs)
