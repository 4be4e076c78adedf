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
3. The other hosts are drained onto the kept ones, cheapest host first (fewest VMs), whole
   hosts only, within MaxMigrationsPerRound. Their VMs are placed together, largest first, on
   the fullest kept host that stays within every limit (PACK weighers, every filter). A host
   with a VM that fits nowhere keeps all its VMs (its placed ones are taken back before any
   step is written) and from then on is a target like the kept hosts.
4. Empty hosts beyond HostsInReserve are released; if none would be, nothing is drained.

Steps come host by host: every migration off one host, then its release. Kept hosts only gain
load and drained hosts only lose it, and never the other way round, so every prefix of the plan
(a plan cut short, or stopped by a premise) leaves every host within its limits, with no
anti-affinity clash, and no host that was being drained ever receives a VM.

When consolidation starts (demand mode): when the cluster's CPU demand over the CPUs in service
is below DemandCapacityRatioTarget - DemandCapacityRatioTolerance (45% by default), or while an
episode is under way (the cluster's latest power action was a release). After a wake, it waits
for the demand to fall below the band again: the band is the hysteresis, so hosts do not flap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from policies.history import Observations
from policies.keepers import Need, capacity, choose_keepers, nominal
from policies.params import Params
from policies.placement import Headroom, Placement, Unit, place, units_on
from policies.plan import Step, StepKind
from policies.state import ClusterState, HostRoom, gib, pct
from policies.weights import PACK

#: Hosts named one by one in a note; beyond that, a count and a few examples.
NAMED = 5
#: Packing weighs the first hosts that take a VM, least room first. Four rather than
#: placement's 16 halves the planning time at 1000x20000 and changed the hosts kept by at most
#: one in bench/policy_figures.py.
SHORTLIST = 4


def cooling(room: HostRoom, params: Params, obs: Observations) -> float | None:
    """Seconds since the host's last power action when that is too recent, else None."""
    last = obs.last_power_action.get(room.name)
    if last is None or obs.now - last >= params.power_interval_s:
        return None
    return obs.now - last


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


@dataclass(frozen=True, slots=True)
class Sizer:
    """Sizes for largest-first packing: each resource as a share of what the kept hosts can
    carry, weighted by how tight that resource is there (a memory-bound cluster sorts by
    memory). The same weights rank hosts, to pick the most useful one to keep."""

    weights: tuple[float, float, float]
    params: Params
    cpu_share: float

    @classmethod
    def of(
        cls, running: list[HostRoom], keep: list[HostRoom], params: Params, cpu_share: float
    ) -> Sizer:
        need = Need.of(running).as_tuple()
        caps = [sum(c) for c in zip(*(capacity(r, params, cpu_share) for r in keep), strict=True)]
        weights = tuple(n / c / c if c > 0 else 0.0 for n, c in zip(need, caps, strict=True))
        return cls(weights, params, cpu_share)  # type: ignore[arg-type]

    def unit(self, unit: Unit) -> float:
        amounts = (unit.cpu, unit.memory_mib, sum(v.vcpus for v in unit.vms))
        return sum(w * a for w, a in zip(self.weights, amounts, strict=True))

    def host(self, room: HostRoom) -> float:
        caps = nominal(room, self.params, self.cpu_share)
        return sum(w * c for w, c in zip(self.weights, caps, strict=True))


@dataclass(slots=True)
class _Packing:
    """One packing pass over a batch of hosts to drain (see `_pack`)."""

    state: ClusterState
    params: Params
    index: Headroom
    placed: dict[str, list[Placement]]
    failed: dict[str, str]
    spare: list[HostRoom]  # batch hosts that may be kept instead, most useful last

    def put(self, unit: Unit) -> tuple[Placement | None, str]:
        params = self.params
        none = f"no host in service has {unit.cpu:.1f} CPUs free below {pct(params.high)}"
        hosts = self.index.candidates(unit, params.max_free_memory_over_mib, pack=True)
        found, why = place(self.state, params, unit, hosts, PACK, SHORTLIST, none_left=none)
        if found is not None:
            for vm in unit.vms:
                self.state.move(vm, found.target.name)
            self.index.update(found.target)
        return found, why

    def keep(self, room: HostRoom, why: str) -> None:
        """`room` stays: its placed VMs come back (no step written yet) and it takes VMs."""
        self.failed[room.name] = why
        for undo in reversed(self.placed.pop(room.name)):
            for vm in undo.unit.vms:
                self.state.move(vm, room.name)
            self.index.update(undo.target)
        self.index.update(room)

    def would_take(self, room: HostRoom, unit: Unit) -> bool:
        """Whether `room`, with its own VMs back, has the room for `unit` (numbers only)."""
        back = self.placed[room.name]
        cpu = room.busy + room.overhead + sum(p.unit.cpu for p in back) + unit.cpu
        mem = room.mem_used + sum(p.unit.memory_mib for p in back) + unit.memory_mib
        vcpus = (
            room.vcpus
            + sum(sum(v.vcpus for v in p.unit.vms) for p in (*back,))
            + sum(v.vcpus for v in unit.vms)
        )
        p = self.params
        return (
            cpu <= p.high * room.cpus
            and mem <= room.mem_limit - p.max_free_memory_over_mib
            and vcpus <= p.max_vcpus_per_cpu * room.cpus
        )


def _pack(
    state: ClusterState,
    params: Params,
    batch: list[HostRoom],
    units_of: dict[str, list[Unit]],
    index: Headroom,
    sizer: Sizer,
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
    run = _Packing(state, params, index, {r.name: [] for r in batch}, {}, spare)
    for unit, room in items:
        if room.name in run.failed:
            continue
        found, why = run.put(unit)
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
            run.placed[room.name].append(found)
    return run.placed, run.failed


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
            reason = (
                f"{why}: draining it frees a host; {target.name} is the fullest host that "
                f"takes {pl.unit.name} and stays within limits (CPU {pct(before)} → {pct(after)})"
            )
            steps += [
                Step(StepKind.MIGRATE, room.name, reason, vm.uuid, vm.name, target.name,
                     vm.memory_mib, round(after, 4))
                for vm in pl.unit.vms
            ]  # fmt: skip
        out.append((room, steps))
    return out


def _kept_note(
    state: ClusterState, params: Params, running: list[HostRoom], keep: list[HostRoom], share: float
) -> str:
    need = Need.of(running)
    what = (
        f"{need.cpu:.1f} CPUs of demand within {pct(share)}, {gib(int(need.memory))} committed "
        f"keeping {gib(params.max_free_memory_over_mib)} free per host, {need.vcpus:.0f} vCPUs"
    )
    if len(keep) >= len(running):
        return f"the {len(running)} hosts in service are all needed to carry {what}"
    return f"{len(keep)} of {len(running)} hosts in service carry {what}"


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
    keep, _ = choose_keepers(running, forced, params, share)
    kept = {r.name for r in keep}
    if params.mode == "low_utilization":
        notes += [
            f"{r.name} is under {pct(params.low)} but stays: the cluster needs its capacity"
            for r in keep
            if r.name not in forced and not r.empty
        ][:NAMED]
    notes.append(_kept_note(state, params, running, keep, share))
    index = Headroom(keep, params.high, params.max_vcpus_per_cpu)
    sizer = Sizer.of(running, keep, params, share)
    todo = sorted(
        (r for r in running if r.name not in kept and not r.empty),
        key=lambda r: (len(r.vms), r.mem_used, r.cpus, r.name),
    )
    left = budget
    drained: list[tuple[HostRoom, list[Placement], str]] = []
    kept_back: list[str] = []
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
        placed, failed = _pack(state, params, batch, units_of, index, sizer)
        for room in batch:
            if room.name in failed:
                left += len(room.vms)
                kept_back.append(failed[room.name])
            else:
                drained.append((room, placed[room.name], whys[room.name]))
        todo = rest
        if not failed:
            break  # the rest did not fit the budget; a failure would have freed some
    if len(kept_back) > NAMED:
        kept_back = [
            f"{len(kept_back)} hosts stay in service because some of their VMs fit on no kept "
            f"host (bin packing needs more room than the totals say), e.g. "
            + "; ".join(kept_back[:3])
        ]
    notes += kept_back + _budget_notes(todo, left, params)
    return release(state, params, obs, running, _moves(state, params, drained), notes)


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
) -> tuple[list[Step], list[str]]:
    """Releases empty hosts beyond HostsInReserve (power-managed and small ones first), each
    right after the moves that emptied it; if none can go, every drain is taken back."""
    empties = [r for r in running if r.empty]
    reserve = params.hosts_in_reserve
    releasable = [r for r in empties if cooling(r, params, obs) is None]
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
    chosen = sorted(releasable, key=lambda r: (not r.host.power_management, r.cpus, r.name))
    names = {r.name for r in chosen[:count]}
    why = f"{len(empties)} empty host(s) in service, {reserve} kept in reserve (HostsInReserve)"
    steps: list[Step] = []
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
