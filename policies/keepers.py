"""Which hosts stay in service: the fewest that carry the cluster's demand, large ones first.

Three resources count: CPU demand (VM demand, against `cpu_share` of each host's CPUs less the
host's own overhead), committed memory (against the usable memory within over-commit less
MaxFreeMemoryForOverUtilized, which every host keeps free, down to a multiple of the VMs' sizes'
greatest common divisor: whole VMs) and vCPUs (MaxVcpusPerCpu, whole vCPUs). Hosts
that cannot be drained are kept first; then, greedily, the host that covers the most of what
is still uncovered, each resource counted as a share of the cluster's need (a host's CPUs are
worth nothing once the CPU need is covered, so a memory-bound cluster keeps its memory-rich
hosts). This is the heterogeneous bin-packing bound's own rule: the largest hosts first.

Tie-break: fewest migrations. Among hosts that cover as much (same hardware), the one that
already runs the most VMs stays, since every VM on a released host must move. We do not break
ties by power: the inventory knows no host's watts, while a migration's cost (memory copied,
a pause, a chance to fail) is known and is what an operator sees. Scores use each host's
nominal capacity, so a little measured overhead does not outweigh a dozen migrations.

Scores only fall as the need left shrinks, so a lazy heap re-scores only the hosts that reach
the top: O(hosts log hosts) in practice.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass

from policies.bound import memory_step
from policies.params import Params
from policies.state import HostRoom


@dataclass(frozen=True, slots=True)
class Need:
    """What the VMs of the hosts in service add up to: CPUs of demand, MiB, vCPUs."""

    cpu: float
    memory: float
    vcpus: float

    @classmethod
    def of(cls, rooms: Iterable[HostRoom]) -> Need:
        rooms = list(rooms)
        return cls(
            sum(r.busy for r in rooms),
            float(sum(r.mem_used for r in rooms)),
            float(sum(r.vcpus for r in rooms)),
        )

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.cpu, self.memory, self.vcpus)


def capacity(
    room: HostRoom, params: Params, cpu_share: float, step: int = 1, *, reshaped: bool = False
) -> tuple[float, float, float]:
    """What the host can carry for VMs within the limits (measured overhead taken off), memory
    down to a multiple of `step` (policies.bound.memory_step: whole VMs). A host already at a
    limit in one resource takes no VM at all, so then it carries what it runs; `reshaped`
    (VMs move between kept hosts, policies.reshape): its limits still, since a VM it runs may
    leave and give the room back (what it runs beyond a limit still counts)."""
    limits = _limits(room, params, cpu_share, step)
    runs = _runs(room)
    if reshaped:
        return (max(runs[0], limits[0]), max(runs[1], limits[1]), max(runs[2], limits[2]))
    return runs if _full(runs, limits) else limits


def nominal(
    room: HostRoom, params: Params, cpu_share: float, step: int = 1
) -> tuple[float, float, float]:
    """The same for the hardware alone, for scores: equal hardware, equal score, so that a
    little measured overhead does not outweigh migrations (a host at a limit still scores
    what it runs)."""
    hardware = (
        cpu_share * room.cpus,
        float(max(0, _usable(room, params, step))),
        float(math.floor(params.max_vcpus_per_cpu * room.cpus)),
    )
    runs = _runs(room)
    return runs if _full(runs, _limits(room, params, cpu_share, step)) else hardware


def _usable(room: HostRoom, params: Params, step: int) -> int:
    return (room.mem_limit - params.max_free_memory_over_mib) // step * step


def _limits(
    room: HostRoom, params: Params, cpu_share: float, step: int = 1
) -> tuple[float, float, float]:
    return (
        cpu_share * room.cpus - room.overhead,
        float(_usable(room, params, step)),
        float(math.floor(params.max_vcpus_per_cpu * room.cpus)),
    )


def _runs(room: HostRoom) -> tuple[float, float, float]:
    return (room.busy, float(room.mem_used), float(room.vcpus))


def _full(runs: tuple[float, ...], limits: tuple[float, ...]) -> bool:
    return any(r >= lim for r, lim in zip(runs, limits, strict=True))


def _score(cap: tuple[float, float, float], left: list[float], need: tuple[float, ...]) -> float:
    return sum(min(c, lft) / n for c, lft, n in zip(cap, left, need, strict=True) if lft > 0)


def choose_keepers(
    rooms: list[HostRoom],
    forced: Iterable[str],
    params: Params,
    cpu_share: float,
    *,
    reshaped: bool = False,
) -> tuple[list[HostRoom], bool]:
    """Hosts to keep: the forced ones, then the greedy choice until the need is covered.
    Also whether the need is covered at all (it may not be, when demand exceeds the cluster).
    reshaped: VMs may move between kept hosts (see `capacity`)."""
    need = Need.of(rooms).as_tuple()
    step = memory_step(v.memory_mib for r in rooms for v in r.vms.values())
    must = set(forced)
    keep = [r for r in rooms if r.name in must]
    left = list(need)
    for room in keep:
        for d, c in enumerate(capacity(room, params, cpu_share, step, reshaped=reshaped)):
            left[d] -= c
    caps = {r.name: nominal(r, params, cpu_share, step) for r in rooms}
    scale = tuple(n if n > 0 else 1.0 for n in need)
    heap = [
        (-_score(caps[r.name], left, scale), -len(r.vms), -r.mem_used, r.name, r)
        for r in rooms
        if r.name not in must
    ]
    heapq.heapify(heap)
    while heap and (any(x > 1e-9 for x in left) or not keep):
        _, vms, mem, name, room = heapq.heappop(heap)
        fresh = -_score(caps[name], left, scale)
        if heap and (fresh, vms, mem, name) > heap[0][:4]:
            heapq.heappush(heap, (fresh, vms, mem, name, room))  # no longer the best: re-rank
            continue
        keep.append(room)
        for d, c in enumerate(capacity(room, params, cpu_share, step, reshaped=reshaped)):
            left[d] -= c
    return keep, all(x <= 1e-9 for x in left)
