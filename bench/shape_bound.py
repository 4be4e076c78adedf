"""A lower bound on hosts that counts each VM as a whole bundle: the "shape" bound.

policies.joint_bound asks for the fewest hosts whose summed capacities cover the summed need,
so the memory of one host kind may serve the vCPUs of another. A VM cannot be split like that:
its vCPUs, memory and CPU demand all land on the same host. This bound groups hosts by kind
(equal capacity) and solves, with integer counts,

    minimise sum_t n_t   over n_t (kind t's hosts kept) and y_it (VM i's share on kind t)
    sum_t y_it = 1 for every VM i;  y_it = 0 where VM i fits no single host of kind t
    sum_i y_it * vm_i[r] <= n_t * cap_t[r]   for every kind t and resource r
    forced_t <= n_t <= forced_t + free_t     (hosts that must stay count in)

with a VM that must stay (pinned, not migratable) fixed to its host's kind. Every real end
state is a solution (n_t whole, y_it 0 or 1), so the optimum is a valid lower bound; it ignores
only how a kind's VMs split between its hosts (and affinity). Summing a kind's rows gives the
joint covering condition, so it is never below policies.joint_bound. VMs of one shape (equal
memory, vCPUs and CPU demand, the demand rounded to CPU_STEP: see shape_bound) share one column
y_st in [0, N_s]: a few hundred columns for 20 000 VMs, solved in a fraction of a second by
HiGHS through scipy (a dev extra: the engine never imports this module, nor does policies/).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from policies.bound import Capacity

_TOL = 1e-6  # HiGHS's bound on an integer objective is rounded up past this


#: CPU demand is rounded to this many CPUs before VMs are grouped (see shape_bound)
CPU_STEP = 0.125


@dataclass(frozen=True, slots=True)
class ShapeBound:
    hosts: int  # the bound: the fewest hosts with whole counts per kind
    lp: float  # the optimum with fractional counts too (its ceiling: a weaker bound)
    exact: bool  # demands rounded up give the same count: `hosts` is the unrounded optimum
    mix: dict[Capacity, int]  # hosts kept per kind at the optimum (one optimum of several)
    placed: dict[Capacity, float]  # VMs on each kind at that optimum (fractional)


def _fits(vm: Capacity, cap: Capacity) -> bool:
    return all(
        v <= c + 1e-9 * max(1.0, c) for v, c in zip(vm.as_tuple(), cap.as_tuple(), strict=True)
    )


def _rounded(need: Capacity, step: float, up: bool) -> Capacity:
    if step <= 0:
        return need
    steps = need.cpu / step
    whole = math.ceil(steps - 1e-9) if up else math.floor(steps + 1e-9)
    return Capacity(whole * step, need.memory, need.vcpus)


def _solve(
    free: Counter[Capacity],
    forced: Counter[Capacity],
    vms: list[tuple[Capacity, Capacity | None]],
    cpu_need: float,
) -> ShapeBound | None:
    """The model of the module doc on these VMs, with one row more: the hosts kept have
    `cpu_need` CPUs of demand in all (so rounded demands never count less than the joint
    bound); None when even every host cannot carry them."""
    kinds = sorted(set(free) | set(forced), key=lambda c: c.as_tuple(), reverse=True)
    index = {k: t for t, k in enumerate(kinds)}
    n_kinds = len(kinds)
    # VMs that must stay weigh on their kind's rows; the others, grouped when equal, get columns
    load = np.zeros((n_kinds, 3))
    groups: Counter[Capacity] = Counter()
    for need, home in vms:
        if home is None:
            groups[need] += 1
        else:
            load[index[home]] += need.as_tuple()
    shapes = sorted(groups, key=lambda c: c.as_tuple())
    counts = np.array([groups[s] for s in shapes], dtype=float)
    cap = np.array([k.as_tuple() for k in kinds])
    scale = np.maximum(cap.max(axis=0), 1.0)  # rows in shares of the largest host
    n_cols = n_kinds + len(shapes) * n_kinds  # n_t, then y_st for shape s on kind t

    def col(s: int, t: int) -> int:
        return n_kinds + s * n_kinds + t

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for t in range(n_kinds):  # sum_s y_st vm_s[r] - n_t cap_t[r] <= -load_t[r]
        for r in range(3):
            rows.append(t * 3 + r)
            cols.append(t)
            vals.append(-cap[t, r] / scale[r])
            for s, shape in enumerate(shapes):
                rows.append(t * 3 + r)
                cols.append(col(s, t))
                vals.append(shape.as_tuple()[r] / scale[r])
    n_cap = 3 * n_kinds
    for s in range(len(shapes)):  # every VM placed: sum_t y_st = N_s
        for t in range(n_kinds):
            rows.append(n_cap + s)
            cols.append(col(s, t))
            vals.append(1.0)
    total = n_cap + len(shapes)  # -sum_t n_t cap_t[cpu] <= -cpu_need
    for t in range(n_kinds):
        rows.append(total)
        cols.append(t)
        vals.append(-cap[t, 0] / scale[0])
    matrix = coo_array((vals, (rows, cols)), shape=(total + 1, n_cols)).tocsr()
    rows_at_most = np.concatenate([-(load / scale).ravel(), counts, [-cpu_need / scale[0]]])
    rows_at_least = np.concatenate([np.full(n_cap, -np.inf), counts, [-np.inf]])
    constraints = LinearConstraint(matrix, rows_at_least, rows_at_most)
    lo, hi = np.zeros(n_cols), np.zeros(n_cols)
    for t, k in enumerate(kinds):
        lo[t], hi[t] = forced[k], forced[k] + free[k]
        for s, shape in enumerate(shapes):
            hi[col(s, t)] = counts[s] if _fits(shape, k) else 0.0
    bounds = Bounds(lo, hi)
    cost = np.zeros(n_cols)
    cost[:n_kinds] = 1.0
    relaxed = milp(cost, constraints=constraints, bounds=bounds)
    if relaxed.status == 2:  # infeasible
        return None
    integrality = np.zeros(n_cols)
    integrality[:n_kinds] = 1
    whole = milp(
        cost,
        constraints=constraints,
        bounds=bounds,
        integrality=integrality,
        options={"mip_rel_gap": 0.0},
    )
    if not (relaxed.success and whole.success):
        raise RuntimeError(f"HiGHS: {relaxed.message}; {whole.message}")
    # the proven bound on the optimum, not the incumbent (equal when the search closed)
    proven = getattr(whole, "mip_dual_bound", None)
    x = whole.x
    return ShapeBound(
        hosts=max(1, math.ceil((whole.fun if proven is None else proven) - _TOL)),
        lp=float(relaxed.fun),
        exact=False,
        mix={k: round(x[t]) for t, k in enumerate(kinds)},
        placed={
            k: float(sum(x[col(s, t)] for s in range(len(shapes)))) for t, k in enumerate(kinds)
        },
    )


def shape_bound(
    hosts: Sequence[Capacity],
    fixed: Sequence[Capacity],
    vms: Sequence[tuple[Capacity, Capacity | None]],
    *,
    cpu_step: float = CPU_STEP,
) -> ShapeBound:
    """`hosts`: the capacities of the hosts a plan may release; `fixed`: of those it must keep;
    `vms`: each VM's need (CPUs of demand, MiB, vCPUs) with the capacity of its host when it
    must stay there (else None). A cluster keeps one host at least; len(hosts) + len(fixed) + 1
    when even all of them cannot carry the VMs.

    Demands vary continuously, so few VMs would be equal: each movable VM's CPU demand is
    rounded down to a multiple of `cpu_step` first (0: not rounded), which only loosens the
    rows, so the result is still a lower bound; the exact total demand still counts in one row
    over all kinds. The same model with demands rounded up is then solved too:
    it can only need more hosts, so when it needs the same count that count is the unrounded
    model's optimum (`exact`)."""
    free, forced = Counter(hosts), Counter(fixed)
    everything = len(hosts) + len(fixed)
    if not free and not forced:
        return ShapeBound(1 if not vms else everything + 1, 0.0, True, {}, {})
    cpu_need = sum(n.cpu for n, _ in vms)

    def rounded(up: bool) -> list[tuple[Capacity, Capacity | None]]:
        return [(n if h is not None else _rounded(n, cpu_step, up), h) for n, h in vms]

    down = _solve(free, forced, rounded(False), cpu_need)
    if down is None:
        return ShapeBound(everything + 1, math.inf, True, {}, {})
    if cpu_step <= 0:
        return replace(down, exact=True)
    up = _solve(free, forced, rounded(True), cpu_need)
    return replace(down, exact=up is not None and up.hosts == down.hosts)
