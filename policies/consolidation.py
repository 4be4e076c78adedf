"""Consolidation, power saving's third step: keep the fewest hosts, drain the others, release.

1. Hosts that cannot be drained stay: pinned or non-migratable VMs, an affinity group split
   across hosts, CPU not measured yet, a power action within MinPowerActionIntervalMinutes,
   VMs received earlier in this round (a VM moves at most once per round); in the
   low_utilization mode also every host at or above LowUtilization (or with less than
   MinFreeMemoryForUnderUtilized free).
2. policies.keepers chooses the hosts to keep as a whole: those, then the largest (the host
   that covers most of what is still uncovered), until the cluster's CPU demand (within
   HighUtilization, or the top of the demand band when lower), committed memory (keeping
   MaxFreeMemoryForOverUtilized free) and vCPUs are carried. Ties: the host running more VMs.
3. Demand mode: VMs the kept hosts run are exchanged between them where that gives their
   room the shape of what is to come (policies.reshape: memory idle for want of vCPUs on
   one, vCPUs idle for want of memory on the other).
4. The other hosts are drained onto the kept ones, cheapest host first (fewest VMs), whole
   hosts only, within MaxMigrationsPerRound. policies.packing places their VMs together,
   largest first, on the fullest kept host that stays within every limit (PACK weighers,
   every filter). When a VM fits nowhere, two VMs placed earlier swap targets if that makes
   room (policies.swap); failing that, one more host stays (the largest of the batch, or
   the VM's own host), its placed VMs taken back before any step is written, and it takes
   VMs from then on like the kept hosts. In demand mode a memory-rich VM may go where memory
   is idle for want of vCPUs, a vCPU-heavy VM of that host moving away (policies.evict), and
   before a host is kept back one VM of a kept host may move to make the room.
5. Demand mode: one host more (policies.reclaim). The kept hosts that may go are emptied one
   by one, the fewest migrations first, into the others' room: drained VMs change target
   (free), units swap places, a host gives up a few small units, a VM of a kept host moves
   first (an ejection); an attempt that leaves a unit without a place is taken back whole.
   Before it, free memory and free vCPUs on different hosts are brought together by swaps.
   It stops at 17 migrations per released host for the round, or the budget.
6. Empty hosts beyond HostsInReserve are released (policies.release); if none would be,
   nothing is drained.

Steps: first the moves between kept hosts (steps 3 to 5), in the order they were decided,
each checked in a state that carried at least as much; then host by host, every migration off
one host, then its release. During the drains kept hosts only gain load and drained hosts
only lose it, so every prefix of the plan (a plan cut short, or stopped by a premise) leaves
every host within its limits, with no anti-affinity clash, and no host that was being
drained ever receives a VM.

When consolidation starts (demand mode): when the cluster's CPU demand over the CPUs in service
is below DemandCapacityRatioTarget - DemandCapacityRatioTolerance (45% by default), or while an
episode is under way (the cluster's latest power action was a release). After a wake, it waits
for the demand to fall below the band again: the band is the hysteresis, so hosts do not flap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from policies.bound import Capacity, host_capacity, lower_bound, memory_step
from policies.evict import Ejection, Ejector
from policies.history import Observations
from policies.keepers import Need, choose_keepers
from policies.packing import Sizer, pack
from policies.params import Params
from policies.placement import Headroom, Placement, Unit, units_on
from policies.plan import Step, StepKind
from policies.reclaim import own_units, placements_of, rebuilt, reclaim
from policies.release import cooling, release
from policies.repack import Repack
from policies.reshape import mix_of, reshape
from policies.state import ClusterState, HostRoom, gib, pct

#: Hosts named one by one in a note; beyond that, a count and a few examples.
NAMED = 5


def demand_ratio(rooms: Sequence[HostRoom]) -> float:
    """CPU demand (VMs and hosts' own overhead) over the CPUs of `rooms` (0..)."""
    cpus = sum(r.cpus for r in rooms)
    return sum(r.busy + r.overhead for r in rooms) / cpus if cpus else 0.0


def _episode(state: ClusterState, obs: Observations) -> bool:
    """The cluster's latest power action released a host: a consolidation is under way."""
    acted = [(t, name) for name, t in obs.last_power_action.items() if name in state.rooms]
    if not acted:
        return False
    _, name = max(acted)
    return name in obs.parked and not state.rooms[name].in_service


def _start(state: ClusterState, params: Params, obs: Observations, running: list[HostRoom]) -> str:
    """Why consolidation does not start this round, or "" when it does."""
    if params.mode != "demand":
        return ""
    ratio = demand_ratio(running)
    if ratio < params.band_low or _episode(state, obs):
        return ""
    return (
        f"{state.cluster.name}'s CPU demand is {pct(ratio)} of its {sum(r.cpus for r in running)} "
        f"CPUs in service, not below {pct(params.band_low)} (DemandCapacityRatioTarget "
        f"{pct(params.target)} ± {pct(params.tolerance)}): no host is released"
    )


def _forced(
    state: ClusterState,
    params: Params,
    obs: Observations,
    running: list[HostRoom],
    received: frozenset[str],
    units_of: dict[str, list[Unit]],
) -> tuple[dict[str, str], list[str]]:
    """Hosts that stay whatever the demand, each with why, and notes worth showing."""
    low = params.mode == "low_utilization"
    forced: dict[str, str] = {}
    notes: list[str] = []
    for room in running:
        units, blocked = units_on(state, room)
        units_of[room.name] = units
        since = cooling(room, params, obs)
        under = f"{room.name} is under {pct(params.low)} but " if low else f"{room.name} "
        if low and not room.empty and room.cpu >= params.low:
            forced[room.name] = ""  # oVirt's rule: not under-utilised, so not drained
        elif low and not room.empty and room.mem_free < params.min_free_memory_under_mib:
            forced[room.name] = ""  # not under-utilised (MinFreeMemoryForUnderUtilized)
        elif room.name in received:
            forced[room.name] = f"{room.name} received VMs earlier in this round"
        elif room.host.cpu_usage is None:
            forced[room.name] = f"{room.name}'s CPU is not measured yet"
        elif since is not None:
            whose = f"{under}its" if low else f"{room.name}'s"
            forced[room.name] = why = (
                f"{whose} last power action was {since / 60:.0f} min ago "
                f"(MinPowerActionIntervalMinutes {params.power_interval_s / 60:g}): not drained yet"
            )
            notes.append(why)
        elif blocked:
            forced[room.name] = why = f"{under}cannot be drained: " + "; ".join(blocked)
            if low:
                notes.append(why)
    if not low:
        stuck = [why for why in forced.values() if "cannot be drained" in why]
        if 0 < len(stuck) <= NAMED:
            notes += stuck
        elif stuck:
            notes.append(
                f"{len(stuck)} hosts cannot be drained and stay in service (pinned or "
                f"non-migratable VMs, split affinity groups), e.g. {'; '.join(stuck[:3])}"
            )
    return forced, notes


def _why_drain(state: ClusterState, params: Params, room: HostRoom, kept: int) -> str:
    if params.mode == "low_utilization":
        return f"{room.name} CPU {pct(room.cpu)} < {pct(params.low)} (LowUtilization)"
    return (
        f"{room.name} ({room.cpus} CPUs, {gib(room.mem_limit)}) is not among the {kept} hosts "
        f"that carry {state.cluster.name}'s demand (the largest, then the fullest)"
    )


def _moves(
    state: ClusterState,
    params: Params,
    drained: list[tuple[HostRoom, list[Placement], str]],
) -> list[tuple[HostRoom, list[Step]]]:
    """Migration steps host by host, with each target's CPU as it will be at that step."""
    busy: dict[str, float] = {}
    for _, placements, _ in drained:
        for pl in placements:
            busy[pl.target.name] = busy.get(pl.target.name, 0.0) + pl.unit.cpu
    for name in busy:  # back to each target's load before the first move onto it
        room = state.rooms[name]
        busy[name] = room.busy + room.overhead - busy[name]
    out: list[tuple[HostRoom, list[Step]]] = []
    for room, placements, why in drained:
        steps: list[Step] = []
        for pl in placements:
            target = pl.target
            before = busy[target.name] / target.cpus
            busy[target.name] += pl.unit.cpu
            after = busy[target.name] / target.cpus
            chosen = pl.how or (
                f"{target.name} is the fullest host that takes {pl.unit.name} and stays within "
                "limits"
            )
            reason = f"{why}: draining it frees a host; {chosen} (CPU {pct(before)} → {pct(after)})"
            steps += [
                Step(StepKind.MIGRATE, room.name, reason, vm.uuid, vm.name, target.name,
                     vm.memory_mib, round(after, 4))
                for vm in pl.unit.vms
            ]  # fmt: skip
        out.append((room, steps))
    return out


def _ejections(state: ClusterState, done: list[Ejection], start: dict[str, float]) -> list[Step]:
    """The moves between kept hosts (policies.evict), first in the plan in the order they were
    decided, each with its target's CPU as it will be then."""
    steps = []
    busy = dict(start)
    for ej in done:
        target, vm = ej.target, ej.unit.vms[0]
        busy[ej.source.name] -= ej.unit.cpu
        busy[target.name] += ej.unit.cpu
        after = busy[target.name] / target.cpus
        steps.append(Step(StepKind.MIGRATE, ej.source.name, f"{ej.why} (CPU of {target.name} "
                          f"→ {pct(after)})", vm.uuid, vm.name, target.name, vm.memory_mib,
                          round(after, 4)))  # fmt: skip
    return steps


def _reshape_note(done: list[Ejection]) -> str:
    ahead = sum(1 for ej in done if not ej.for_host)
    return (
        f"{len(done)} VMs move between kept hosts before the drains: {ahead} to give their "
        f"room the shape of what is to come (exchanges, single moves), {len(done) - ahead} to "
        "make room for VMs of drained hosts; the kept hosts' own VMs left memory idle for want "
        "of vCPUs, or the reverse"
    )


def fewest_possible(
    running: list[HostRoom], forced: Iterable[str], params: Params, share: float
) -> int:
    """policies.bound's lower bound for these hosts: no plan within the limits keeps fewer
    (the hosts that cannot be drained counted first)."""
    step = memory_step(v.memory_mib for r in running for v in r.vms.values())

    def cap(room: HostRoom) -> Capacity:
        return host_capacity(room.cpus, room.mem_limit, cpu_share=share,
                             keep_free_mib=params.max_free_memory_over_mib,
                             vcpus_per_cpu=params.max_vcpus_per_cpu, mem_step_mib=step)  # fmt: skip

    must = set(forced)
    return lower_bound(
        Need.of(running).as_tuple(),
        [cap(r) for r in running if r.name not in must],
        [cap(r) for r in running if r.name in must],
    )


def _kept_note(
    params: Params, running: list[HostRoom], keep: list[HostRoom], share: float, fewest: int
) -> str:
    need = Need.of(running)
    what = (
        f"{need.cpu:.1f} CPUs of demand within {pct(share)}, {gib(int(need.memory))} committed "
        f"keeping {gib(params.max_free_memory_over_mib)} free per host, {need.vcpus:.0f} vCPUs"
    )
    bound = (
        f"; no plan within these limits keeps fewer than {fewest} (lower bound, hosts that must "
        "stay counted first)"
    )
    if len(keep) >= len(running):
        return f"the {len(running)} hosts in service are all needed to carry {what}{bound}"
    return f"{len(keep)} of {len(running)} hosts in service carry {what}{bound}"


def consolidate(
    state: ClusterState,
    params: Params,
    obs: Observations,
    budget: int,
    received: frozenset[str] = frozenset(),
) -> tuple[list[Step], list[str]]:
    """Keep, drain and release (see the module doc). `received`: hosts that got VMs earlier in
    the round; they stay, so that no VM moves twice."""
    running = sorted(state.in_service(), key=lambda r: r.name)
    if len(running) < 2:
        return [], [f"{state.cluster.name} has {len(running)} host in service: nothing to pack"]
    why_not = _start(state, params, obs, running)
    if why_not:
        return [], [why_not]
    units_of: dict[str, list[Unit]] = {}
    forced, notes = _forced(state, params, obs, running, received, units_of)
    share = params.band_high if params.mode == "demand" else params.high
    keep, _ = choose_keepers(running, forced, params, share, reshaped=params.mode == "demand")
    kept = {r.name for r in keep}
    if params.mode == "low_utilization":
        notes += [
            f"{r.name} is under {pct(params.low)} but stays: the cluster needs its capacity"
            for r in keep
            if r.name not in forced and not r.empty
        ][:NAMED]
    fewest = fewest_possible(running, forced, params, share)
    notes.append(_kept_note(params, running, keep, share, fewest))
    sizer = Sizer.of(running, keep, params, share)
    todo = sorted(
        (r for r in running if r.name not in kept and not r.empty),
        key=lambda r: (len(r.vms), r.mem_used, r.cpus, r.name),
    )
    start = {r.name: r.busy + r.overhead for r in running}
    # oVirt's rule moves only VMs of hosts under LowUtilization: no move between kept hosts
    ejector = Ejector(sizer.unit, budget - sum(len(r.vms) for r in todo), received)
    mix = mix_of(todo)
    demand_mode = params.mode == "demand"
    if mix is not None and demand_mode:
        ejector.per_vcpu = mix.per_vcpu
        reshape(state, params, keep, mix, ejector)
    left = budget - len(ejector.done)
    index = Headroom(keep, params.high, params.max_vcpus_per_cpu)
    drained: list[tuple[HostRoom, list[Placement], str]] = []
    kept_back: dict[str, str] = {}
    while todo:
        batch, rest = [], []
        for room in todo:
            if len(room.vms) <= left:
                batch.append(room)
                left -= len(room.vms)
            else:
                rest.append(room)
        if not batch:
            break
        whys = {r.name: _why_drain(state, params, r, len(keep)) for r in batch}
        ejector.left = left
        placed, failed = pack(
            state, params, batch, units_of, index, sizer, ejector if demand_mode else None
        )
        left = ejector.left if demand_mode else left
        for room in batch:
            if room.name in failed:
                left += len(room.vms)
                kept_back[room.name] = failed[room.name]
            else:
                drained.append((room, placed[room.name], whys[room.name]))
        todo = rest
        if not failed:
            break  # the rest did not fit the budget; a failure would have freed some
    if demand_mode:
        ejector.left = left
        drained, more = _one_more(state, params, index, ejector, sizer, drained, running,
                                  [*keep, *(state.rooms[n] for n in kept_back)], forced,
                                  units_of)  # fmt: skip
        left = ejector.left
        for room in more:
            kept_back.pop(room.name, None)
        if more:
            notes.append(_more_note(more))
    whys_back = list(kept_back.values())
    if len(whys_back) > NAMED:
        whys_back = [
            f"{len(whys_back)} hosts stay in service because some of their VMs fit on no kept "
            f"host (bin packing needs more room than the totals say), e.g. "
            + "; ".join(whys_back[:3])
        ]
    notes += whys_back + _budget_notes(todo, left, params)
    first = _ejections(state, ejector.done, start)
    if first:
        notes.append(_reshape_note(ejector.done))
    return release(state, params, obs, running, _moves(state, params, drained), notes, first)


def _one_more(
    state: ClusterState,
    params: Params,
    index: Headroom,
    ejector: Ejector,
    sizer: Sizer,
    drained: list[tuple[HostRoom, list[Placement], str]],
    running: list[HostRoom],
    kept: list[HostRoom],
    forced: dict[str, str],
    units_of: dict[str, list[Unit]],
) -> tuple[list[tuple[HostRoom, list[Placement], str]], list[HostRoom]]:
    """Step 5 (policies.reclaim): kept hosts that may go, cheapest first, emptied into the
    others' room. -> the drains (placements at their final targets) and the hosts emptied."""
    run = Repack.of(state, params, index, ejector, sizer.unit, drained)
    candidates = []
    for room in kept:
        if room.name in forced or room.name in ejector.frozen or room.empty:
            continue
        own = own_units(state, room, units_of[room.name], ejector.moved)
        candidates.append((sum(len(u.vms) for u in own), room.mem_used, room.name, room))
    candidates.sort(key=lambda c: c[:3])
    moves = len(ejector.done) + sum(len(pl.unit.vms) for _, pls, _ in drained for pl in pls)
    names = {r.name for r in kept}
    released = sum(1 for r in running if r.empty and r.name not in names)  # the drained too
    more = reclaim(run, [(c[3], units_of[c[2]]) for c in candidates], moves, released)
    if not more:
        return drained, []  # and the state as it was
    why = (
        "once the other hosts were packed, their room carries every VM of this host (some "
        "moved between kept hosts to make it)"
    )
    out = rebuilt(run, drained)
    for room in more:
        own = [run.placed[u][0] for u in run.placed if run.placed[u][1] == room.name]
        out.append((room, placements_of(run, room, own), f"{room.name}: {why}"))
    return out, more


def _more_note(more: list[HostRoom]) -> str:
    named = ", ".join(r.name for r in more[:NAMED]) + (", ..." if len(more) > NAMED else "")
    return (
        f"{len(more)} more hosts are released after the packing ({named}): the kept hosts' "
        "free room, rearranged (drained VMs given other targets, a few VMs of kept hosts moved "
        "first), carries their VMs"
    )


def _budget_notes(todo: list[HostRoom], left: int, params: Params) -> list[str]:
    if not todo:
        return []
    if len(todo) <= NAMED:
        return [
            f"{r.name} ({pct(r.cpu)} CPU) would need {len(r.vms)} migrations; {left} left this "
            f"round (MaxMigrationsPerRound {params.max_migrations})"
            for r in todo
        ]
    return [
        f"{len(todo)} more hosts could be released with {sum(len(r.vms) for r in todo)} "
        f"migrations; {left} left this round (MaxMigrationsPerRound {params.max_migrations}): "
        "the next rounds go on"
    ]
