"""Load balancing ("evenly_distributed"): relieve hosts that stay over-utilised.

A host is a source when its CPU has been above HighUtilization for at least
CpuOverCommitDurationMinutes (from the LoadHistory), or when its free memory within over-commit
is below MaxFreeMemoryForOverUtilized. For each source, worst first, the planner moves one unit
at a time (a VM, or an affinity group together):

- among the units that fit elsewhere, the cheapest (least memory to copy) whose move brings the
  source back within its thresholds; if no single unit does, the one that takes off the most
  load (ties: the cheapest); a unit that takes nothing off the overload is never moved;
- to the host, among those that pass every filter and stay within the thresholds after the move
  (so the move cannot make a new source: no ping-pong), with the most headroom (SPREAD weighers;
  power saving relieves with pack=True: the fullest host that stays within them, PACK weighers);
- until the source is within its thresholds or MaxMigrationsPerRound is spent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ovtui.model import Snapshot
from policies.history import Observations
from policies.params import Params
from policies.placement import Headroom, Placement, Unit, place, units_on
from policies.plan import Plan, Step, StepKind
from policies.report import finish
from policies.state import ClusterState, HostRoom, gib, pct
from policies.weights import PACK, SPREAD


@dataclass(slots=True)
class Source:
    room: HostRoom
    why: str  # "kvm-a04 CPU 91% for 3 min > 80%"

    def cpu_excess(self, params: Params) -> float:
        """Host CPUs of load above HighUtilization."""
        r = self.room
        return max(0.0, r.busy + r.overhead - params.high * r.cpus)

    def memory_short(self, params: Params) -> int:
        return max(0, params.max_free_memory_over_mib - self.room.mem_free)

    def over(self, params: Params) -> bool:
        return self.cpu_excess(params) > 1e-9 or self.memory_short(params) > 0


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds < 600 else f"{seconds / 60:.0f} min"


def find_sources(
    state: ClusterState, params: Params, obs: Observations
) -> tuple[list[Source], list[str]]:
    """Over-utilised hosts (worst first) and notes on hosts being watched."""
    sources: list[Source] = []
    notes: list[str] = []
    for room in sorted(state.in_service(), key=lambda r: r.name):
        if room.host.cpu_usage is None:
            continue
        whys: list[str] = []
        cpu = room.cpu
        if cpu > params.high:
            lasted = obs.history.above_for(room.name, params.high)
            if params.duration_s <= 0 or lasted >= params.duration_s:
                whys.append(
                    f"{room.name} CPU {pct(cpu)} for {_minutes(lasted)} > {pct(params.high)}"
                )
            else:
                notes.append(
                    f"watching {room.name}: CPU {pct(cpu)} > {pct(params.high)} for "
                    f"{_minutes(lasted)}, not yet {_minutes(params.duration_s)} "
                    "(CpuOverCommitDurationMinutes)"
                )
        if params.max_free_memory_over_mib and room.mem_free < params.max_free_memory_over_mib:
            whys.append(
                f"{room.name} has {gib(max(room.mem_free, 0))} memory free "
                f"< {gib(params.max_free_memory_over_mib)} (MaxFreeMemoryForOverUtilized)"
            )
        if whys:
            sources.append(Source(room, " and ".join(whys)))
    sources.sort(key=lambda s: (-s.cpu_excess(params), -s.memory_short(params), s.room.name))
    return sources, notes


def _help(source: Source, params: Params, unit: Unit) -> float:
    """Share of the source's overload (0..1) the unit's move takes off; the worse kind counts."""
    shares = []
    excess = source.cpu_excess(params)
    if excess > 1e-9:
        shares.append(min(unit.cpu, excess) / excess)
    short = source.memory_short(params)
    if short > 0:
        shares.append(min(unit.memory_mib, short) / short)
    if not shares:
        return 0.0
    if min(shares) >= 1 - 1e-9:
        return 1.0  # resolves every overload of the source
    return min(max(shares), 0.999)


def preference(source: Source, params: Params, units: Sequence[Unit]) -> list[Unit]:
    """Units worth moving, best first: those that bring the source back within its limits,
    cheapest (least memory) first; then the others, the most help first, cheapest on ties.
    Units that take nothing off the overload are left out."""
    helps = [(u, _help(source, params, u)) for u in units]
    resolving = sorted((u for u, h in helps if h >= 1 - 1e-9),
                       key=lambda u: (u.memory_mib, -u.cpu, u.name))  # fmt: skip
    partial = sorted(((u, h) for u, h in helps if 1e-9 < h < 1 - 1e-9),
                     key=lambda uh: (-round(uh[1], 6), uh[0].memory_mib, uh[0].name))  # fmt: skip
    return resolving + [u for u, _ in partial]


def _first_placeable(
    state: ClusterState, params: Params, units: Sequence[Unit], index: Headroom, pack: bool
) -> tuple[Placement | None, list[str]]:
    """Placing costs a look at hosts, so units are tried in order of preference only until one
    fits somewhere: the result is the same as placing all and picking the best."""
    refused: list[str] = []
    for unit in units:
        none_left = "no other host in service"
        if len(index) > 1:
            none_left = f"no other host has {unit.cpu:.1f} CPUs free below {pct(params.high)}"
        hosts = index.candidates(unit, params.max_free_memory_over_mib, pack=pack)
        weighers = PACK if pack else SPREAD
        found, why = place(state, params, unit, hosts, weighers, none_left=none_left)
        if found:
            return found, refused
        refused.append(f"{unit.name}: {why}")
    return None, refused


def _reason(
    source: Source, params: Params, pick: Placement, resolved: bool, after: float, pack: bool
) -> str:
    unit = pick.unit
    what = "VMs" if len(unit.vms) > 1 else "VM"
    if resolved:
        why = (
            f"{unit.name} is the cheapest {what} ({gib(unit.memory_mib)}) whose move brings "
            f"{source.room.name} back within its limits (CPU {pct(after)})"
        )
    else:
        why = (
            f"{unit.name} takes the most load off {source.room.name} "
            f"({unit.cpu:.1f} CPUs, {gib(unit.memory_mib)}) of the VMs that fit elsewhere"
        )
    where = "is the fullest host that stays within limits" if pack else "has the most headroom"
    return (
        f"{source.why}; {why}; {pick.target.name} {where} "
        f"(CPU {pct(pick.cpu_before)} → {pct(pick.cpu_after)})"
    )


def relieve(
    state: ClusterState, params: Params, obs: Observations, budget: int, *, pack: bool = False
) -> tuple[list[Step], list[str]]:
    """Migration steps that relieve over-utilised hosts (applied to `state`), and notes.
    pack: send load to the fullest host that stays within limits (power saving) rather than
    to the one with the most headroom (balancing)."""
    sources, notes = find_sources(state, params, obs)
    steps: list[Step] = []
    if not sources:
        return steps, notes
    index = Headroom(state.in_service(), params.high, params.max_vcpus_per_cpu)
    for source in sources:
        moved_any = False
        while source.over(params):
            if budget - len(steps) <= 0:
                notes.append(
                    f"{source.room.name} is still over its limits: MaxMigrationsPerRound "
                    f"({params.max_migrations}) reached"
                )
                break
            units, blocked = units_on(state, source.room)
            left = budget - len(steps)
            wanted = preference(source, params, [u for u in units if len(u.vms) <= left])
            pick, refused = _first_placeable(state, params, wanted, index, pack)
            if pick is None:
                detail = "; ".join(blocked + refused[:5]) or "it runs no VM that can move"
                further = "no further move" if moved_any else "no move"
                notes.append(f"{source.why}: {further} helps ({detail})")
                break
            for vm in pick.unit.vms:
                state.move(vm, pick.target.name)
            index.update(source.room)
            index.update(pick.target)
            resolved = not source.over(params)
            reason = _reason(source, params, pick, resolved, source.room.cpu, pack)
            for vm in pick.unit.vms:
                steps.append(
                    Step(
                        StepKind.MIGRATE,
                        host=source.room.name,
                        reason=reason,
                        vm_uuid=vm.uuid,
                        vm_name=vm.name,
                        target=pick.target.name,
                        memory_mib=vm.memory_mib,
                        target_cpu_after=round(pick.cpu_after, 4),
                    )
                )
            moved_any = True
    return steps, notes


def plan_balance(snap: Snapshot, cluster: str, params: Params, obs: Observations) -> Plan:
    """The balancing plan for one cluster. Pure: the snapshot is not changed."""
    state = ClusterState.from_snapshot(snap, cluster)
    before = state.loads()
    steps, notes = relieve(state, params, obs, params.max_migrations)
    if not steps and not notes:
        notes.append(
            f"no host above {pct(params.high)} CPU for {_minutes(params.duration_s)} "
            "and none short of memory"
        )
    return finish(state, "balance", before, steps, notes, (), params, obs)
