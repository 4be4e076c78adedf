"""A lower bound on the hosts that can carry a cluster's VMs within every limit a plan obeys.

Each host kept may end with at most: `cpu_share` of its CPUs of demand (HighUtilization, or the
demand band's top), its usable memory within over-commit less MaxFreeMemoryForOverUtilized, and
MaxVcpusPerCpu x its CPUs in vCPUs. Two refinements keep the bound true and make it tighter:

- Whole VMs: a host's memory is a sum of VM sizes, so its usable memory counts only down to a
  multiple of their greatest common divisor (with every VM a multiple of 2 GiB, 383 GiB usable
  holds 382); vCPUs are whole numbers, so MaxVcpusPerCpu x CPUs is rounded down.
- Resources together: any set of hosts that carries every resource also carries every
  non-negative mix of them, so for each mix the smallest k whose k best hosts (by the
  mix of their capacities) cover the mix of the needs is a bound; the largest over a grid of
  mixes is taken. The mixes (1,0,0), (0,1,0), (0,0,1) are the per-resource bounds ("the k
  largest hosts cover the CPU demand, the same for memory, the larger k"); the others matter
  when no host type is the largest in every resource.

Hosts that must stay (`fixed`: pinned VMs, ...) count first with all their capacity.
Pure and O(mixes x host types x log): hosts of equal capacity are counted together.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Steps of the grid of mixes per resource (weights i/STEPS summing to 1): 66 mixes for 3.
STEPS = 10


@dataclass(frozen=True, slots=True)
class Capacity:
    """What one host may end with: CPUs of demand, MiB, vCPUs."""

    cpu: float
    memory: float
    vcpus: float

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.cpu, self.memory, self.vcpus)


def host_capacity(
    cpus: int,
    mem_limit_mib: int,
    *,
    cpu_share: float,
    keep_free_mib: int,
    vcpus_per_cpu: float,
    mem_step_mib: int = 1,
) -> Capacity:
    """One host's end-state limits (see the module doc), memory rounded to `mem_step_mib`."""
    usable = max(0, mem_limit_mib - keep_free_mib)
    step = max(1, mem_step_mib)
    return Capacity(
        cpu_share * cpus, float(usable // step * step), float(math.floor(vcpus_per_cpu * cpus))
    )


def memory_step(sizes_mib: Iterable[int]) -> int:
    """The greatest common divisor of the VMs' memory sizes (1 when there are none)."""
    g = 0
    for size in sizes_mib:
        g = math.gcd(g, size)
    return g or 1


def _mixes(dims: int, steps: int) -> list[tuple[float, ...]]:
    def rec(left: int, n: int) -> list[tuple[int, ...]]:
        if n == 1:
            return [(left,)]
        return [(i, *rest) for i in range(left + 1) for rest in rec(left - i, n - 1)]

    return [tuple(i / steps for i in mix) for mix in rec(steps, dims)]


def _fewest(kinds: Sequence[tuple[float, int]], need: float) -> int | None:
    """The smallest k such that the k largest capacities cover `need` (None: none do).
    `kinds`: (capacity, how many hosts have it)."""
    if need <= 1e-9:
        return 0
    total, k = 0.0, 0
    for cap, count in sorted(kinds, reverse=True):
        if cap <= 0:
            break
        if total + cap * count >= need - 1e-9 * max(1.0, need):
            return k + max(1, math.ceil((need - total) / cap - 1e-9))
        total += cap * count
        k += count
    return None


def lower_bound(
    need: tuple[float, float, float],
    hosts: Iterable[Capacity],
    fixed: Iterable[Capacity] = (),
    steps: int = STEPS,
) -> int:
    """The fewest hosts (fixed ones included) that could carry `need` (CPUs of demand, MiB,
    vCPUs), whatever the packing; len(hosts) + len(fixed) + 1 when even all of them cannot."""
    fixed = list(fixed)
    kinds = Counter(h.as_tuple() for h in hosts)
    base = [sum(f.as_tuple()[d] for f in fixed) for d in range(3)]
    left = [max(0.0, n - b) for n, b in zip(need, base, strict=True)]
    scale = [max(n, 1.0) for n in left]  # mixes of shares, so no unit dominates
    best = 0
    for mix in _mixes(3, steps):
        want = sum(w * x / s for w, x, s in zip(mix, left, scale, strict=True))
        caps = [
            (sum(w * c / s for w, c, s in zip(mix, cap, scale, strict=True)), count)
            for cap, count in kinds.items()
        ]
        k = _fewest(caps, want)
        if k is None:
            return len(fixed) + sum(kinds.values()) + 1
        best = max(best, k)
    return max(len(fixed) + best, 1)
