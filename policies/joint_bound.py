"""The exact fewest hosts whose capacities, as one set, cover every resource of a need.

policies.bound takes, for each mix of the resources, the k largest hosts by that mix: a bound
true for every plan, but the k hosts largest in CPU and the k largest in memory need not be the
same hosts, and when no host type is the largest in every resource (CPU-rich against
memory-rich hosts) no single set reaches it. Here one set must cover all the resources at once:
the smallest k such that some k hosts, the fixed ones (that must stay) among them, carry the
need in every resource. Still a lower bound on any plan (the hosts a plan keeps are such a set;
it ignores only how VMs split into whole bundles), and exact for that covering problem.

Hosts of equal capacity are counted together, and the search runs over how many hosts of each
kind are taken: the last kind's count follows from the others, and a branch stops once it
cannot beat the best found (each resource still short needs at least its shortfall over the
largest capacity left in it). With a few kinds (the bench's presets have 1 to 3) this is
O(hosts^(kinds-1)) at worst, a fraction of a second at 1 000 hosts; `max_nodes` bounds it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from policies.bound import Capacity

#: How many partial choices the search may visit before it gives up (ValueError).
MAX_NODES = 2_000_000
_EPS = 1e-9
_NEVER = 10**18  # a count no cover reaches: a resource that no kind left has


def _short(left: Sequence[float]) -> bool:
    return any(x > _EPS * max(1.0, abs(x)) for x in left)


def _at_least(left: Sequence[float], kinds: Sequence[tuple[tuple[float, ...], int]]) -> int:
    """A count no cover of `left` by `kinds` goes below: per resource, the shortfall over the
    largest capacity of any kind in it (_NEVER when no kind has the resource)."""
    most = 0
    for d, x in enumerate(left):
        if x <= _EPS * max(1.0, x):
            continue
        top = max((cap[d] for cap, _ in kinds), default=0.0)
        if top <= 0:
            return _NEVER
        most = max(most, math.ceil(x / top - _EPS))
    return most


def joint_bound(
    need: Sequence[float],
    hosts: Iterable[Capacity],
    fixed: Iterable[Capacity] = (),
    *,
    max_nodes: int = MAX_NODES,
) -> int:
    """The fewest hosts (the fixed ones included, at least one) such that one set of them covers
    `need` (CPUs of demand, MiB, vCPUs) in every resource; len(hosts) + len(fixed) + 1 when even
    all of them cannot. ValueError when the search would visit more than `max_nodes` choices."""
    fixed = list(fixed)
    kinds = sorted(Counter(h.as_tuple() for h in hosts).items(), reverse=True)
    left = [n - sum(f.as_tuple()[d] for f in fixed) for d, n in enumerate(need)]
    total = sum(c for _, c in kinds)
    everything = [x - sum(cap[d] * c for cap, c in kinds) for d, x in enumerate(left)]
    if _short(everything):
        return len(fixed) + total + 1
    best = total
    nodes = 0

    def search(i: int, left: list[float], taken: int) -> None:
        nonlocal best, nodes
        nodes += 1
        if nodes > max_nodes:
            raise ValueError(f"more than {max_nodes} choices: too many host kinds")
        if not _short(left):
            best = min(best, taken)
            return
        rest = kinds[i:]
        if not rest or taken + _at_least(left, rest) >= best:
            return
        cap, count = rest[0]
        if len(rest) == 1:  # the last kind: as many as the largest shortfall needs
            n = _at_least(left, rest)
            if n <= count:
                best = min(best, taken + n)
            return
        for n in range(min(count, best - taken - 1), -1, -1):
            search(i + 1, [x - n * c for x, c in zip(left, cap, strict=True)], taken + n)

    search(0, left, 0)
    return max(len(fixed) + best, 1)
