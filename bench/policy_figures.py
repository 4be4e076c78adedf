"""Policy figures: the planners on seeded synthetic clusters of 10x100, 100x2000, 1000x20000.

Pure snapshots built in memory (no libvirt). One cluster per preset and size, seeded
(random.Random(seed)); hosts are dealt their hardware in fixed shares:

- "identical": every host 32 CPUs, 256 GiB, 150% memory over-commit (the issue 5 figures);
- "mixed" (issue 14): 40% 32 CPUs/256 GiB, 20% 64/256, 40% 64/512, memory over-commit 100%;
- "tradeoff" (ours): 35% compute hosts 96 CPUs/384 GiB, 35% memory hosts 32 CPUs/768 GiB,
  30% old hosts 16 CPUs/128 GiB, over-commit 120%: no host type is the largest in both CPU
  and memory, so choosing which hosts stay is a real trade-off.

MaxVcpusPerCpu is 4 everywhere. Two loads per preset and size:

- "busy" (daytime): VMs placed with a skew (a few hosts get far more; hosts with more memory
  get proportionally more), mean CPU 55% of the cluster's CPUs; the balancing planner runs on
  it: hosts above HighUtilization (80%) before/after, standard deviation of host CPU
  before/after, migrations.
- "quiet" (night): same shapes, mean CPU 15%, every VM placed within the limits the day's
  balancing keeps (MaxFreeMemoryForOverUtilized free, MaxVcpusPerCpu): the power-saving
  planner runs on it (default parameters): hosts in service before/after next to the lower
  bound, migrations, migrations per released host, hosts above HighUtilization after. (Before
  issue 14's second round the quiet "identical" clusters started with ~69 of 1000 hosts above
  MaxVcpusPerCpu and ~147 with less than 1 GiB free: hosts that can take nothing, and that no
  plan may leave with more.)

Lower bounds: "bound_plain" is the issue's: the smallest k such that the k largest hosts cover
the CPU demand at HighUtilization, the same for committed memory (usable memory within
over-commit less MaxFreeMemoryForOverUtilized), the larger k. "lower_bound" is
policies.bound's, true for every limit the planner obeys and tighter: vCPUs (MaxVcpusPerCpu)
count too, memory counts in whole VMs (every VM here is a multiple of 2 GiB, so 383 GiB usable
hold 382), and mixes of the resources count (no set of k hosts carries the demand unless it
carries every mix of it: this is what matters for "tradeoff"). "bound_pinned" is the same when
the hosts that run a pinned or non-migratable VM (1% and 1% of the VMs: about a third of the
hosts) must stay whatever their size, as they must for any planner. "bound_joint"
(policies.joint_bound) is exact for covering: the fewest hosts such that ONE set of them, the
pinned ones among them, covers the CPU demand, the memory and the vCPUs at once (the issue's
bound may take the k CPU-largest and the k memory-largest hosts, which on "tradeoff" are not
the same hosts); "after_per_joint" the plan against it. "bound_shape" (bench.shape_bound) also
counts each VM as a whole bundle: hosts grouped by hardware kind, each VM's demand, memory and
vCPUs all on one kind (pinned VMs on their host's), whole host counts per kind (an integer
program solved by HiGHS through scipy, a dev extra); never below bound_joint, "after_per_shape"
the plan against it, "shape_exact" true when CPU demands rounded up (rather than down, to
group equal VMs) give the same count, "shape_lp" its optimum with fractional counts.
"shape_mix" is the hosts kept per kind (CPUs/GiB) at that optimum, "kept_mix" the plan's, and
"shape_mix_moves_min" the fewest migrations any plan ending with shape_mix takes (every VM of
the hosts it releases, keeping per kind the hosts that run the most VMs).

Both planners run without a migration budget here (MaxMigrationsPerRound unbounded) to show what
one round can reach; in production the budget keeps rounds short. Planning time is the median
of a few runs; "x per 10x" is the growth factor from the previous size of the same preset.

    python -m bench.policy_figures                      # every preset, every size
    python -m bench.policy_figures --quick              # 10x100 and 100x2000 only
    python -m bench.policy_figures --preset mixed --out policies_mixed
    python -m bench.policy_figures --sizes 1000 --out policies_1000   # hosts of the sizes kept
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from bench.common import print_table, save
from bench.shape_bound import shape_bound
from ovtui.model import VM, Cluster, DataCenter, Host, HostState, Snapshot, VmState
from policies.balance import plan_balance
from policies.bound import STEPS, Capacity, host_capacity, memory_step
from policies.bound import lower_bound as bound
from policies.history import Observations
from policies.joint_bound import joint_bound
from policies.params import Params
from policies.plan import Plan
from policies.power_saving import plan_power_saving

SIZES = ((10, 100), (100, 2_000), (1_000, 20_000))


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    kinds: tuple[tuple[float, int, int], ...]  # (share of hosts, CPUs, memory GiB)
    overcommit: int


PRESETS = (
    Preset("identical", ((1.0, 32, 256),), 150),
    Preset("mixed", ((0.4, 32, 256), (0.2, 64, 256), (0.4, 64, 512)), 100),
    Preset("tradeoff", ((0.35, 96, 384), (0.35, 32, 768), (0.30, 16, 128)), 120),
)
# (weight, vCPU choices, memory GiB choices)
SHAPES = (
    (30, (1, 2, 2), (2, 4, 4)),
    (30, (2, 4), (4, 8, 8)),
    (20, (4, 4, 8), (8, 16)),
    (10, (8,), (16, 32)),
    (10, (2, 4), (16, 32, 64)),
)
BUSY, QUIET = 0.55, 0.15  # mean cluster CPU by day and by night
PARAMS = Params(duration_s=0.0, max_migrations=10**9, hosts_in_reserve=0)
NOW = 1_800_000_000.0


def hardware(preset: Preset, hosts: int) -> list[tuple[int, int]]:
    """(CPUs, memory MiB) per host: each kind's share, rounded, the last kind takes the rest."""
    out: list[tuple[int, int]] = []
    for i, (share, cpus, gib) in enumerate(preset.kinds):
        count = hosts - len(out) if i == len(preset.kinds) - 1 else round(share * hosts)
        out += [(cpus, gib * 1024)] * count
    return out


def build(
    preset: Preset, hosts: int, vms: int, load: float, seed: int, *, within: bool = False
) -> Snapshot:
    """A cluster of `hosts` hosts of the preset and `vms` VMs with a mean cluster CPU of `load`.
    within: VMs are placed within MaxFreeMemoryForOverUtilized and MaxVcpusPerCpu (else within
    the over-commit only, and for "identical" not within MaxVcpusPerCpu either: issue 5's
    generator, which the balancing figures keep)."""
    rng = random.Random(seed)
    names = [f"h{i:04d}" for i in range(hosts)]
    hw = dict(zip(names, hardware(preset, hosts), strict=True))
    keep_free = PARAMS.max_free_memory_over_mib if within else 0
    limit = {n: hw[n][1] * preset.overcommit // 100 - keep_free for n in names}
    used = dict.fromkeys(names, 0)
    vcpus_left = {
        n: PARAMS.max_vcpus_per_cpu * hw[n][0] if within or preset.name != "identical" else 1e18
        for n in names
    }
    first = hw[names[0]][1]
    skew = [rng.lognormvariate(0.0, 0.6) * (hw[n][1] / first) for n in names]
    weights = [s for s, _, _ in SHAPES]
    placed: list[VM] = []
    for j in range(vms):
        _, vcpus_choice, mem_choice = rng.choices(SHAPES, weights)[0]
        vcpus, mem = rng.choice(vcpus_choice), rng.choice(mem_choice) * 1024
        for _ in range(20):
            host = rng.choices(names, skew)[0]
            if used[host] + mem <= limit[host] and vcpus <= vcpus_left[host]:
                break
        else:
            host = min(names, key=lambda n: used[n] / limit[n])
        used[host] += mem
        vcpus_left[host] -= vcpus
        usage = rng.betavariate(2.0, 2.5)
        flags = rng.random()
        placed.append(
            VM(
                uuid=f"{seed}-{j}",
                name=f"vm-{j:06d}",
                host=host,
                cluster="bench",
                datacenter="dc",
                state=VmState.RUNNING,
                vcpus=vcpus,
                memory_mib=mem,
                cpu_usage=usage,
                pinned=flags < 0.01,
                migratable=flags >= 0.02,
                anti_affinity_group=f"aa{rng.randrange(vms // 20 + 1)}" if flags > 0.95 else "",
            )
        )
    mean_cpus = sum(hw[n][0] for n in names) / hosts
    scale = load * hosts * mean_cpus / sum((v.cpu_usage or 0.0) * v.vcpus for v in placed)
    placed = [replace(v, cpu_usage=min(1.0, (v.cpu_usage or 0.0) * scale)) for v in placed]
    busy = dict.fromkeys(names, 0.0)
    for v in placed:
        busy[v.host] += (v.cpu_usage or 0.0) * v.vcpus
    host_objs = tuple(
        Host(
            name=n,
            cluster="bench",
            datacenter="dc",
            uri=f"qemu+ssh://{n}/system",
            state=HostState.UP,
            cpu_model="m",
            cpus=hw[n][0],
            memory_mib=hw[n][1],
            cpu_usage=min(1.0, busy[n] / hw[n][0]),
            memory_used_mib=used[n],
            power_management=True,
        )
        for n in names
    )
    cluster = Cluster("bench", "dc", "m", memory_overcommit_percent=preset.overcommit,
                      scheduling_params=MappingProxyType({}))  # fmt: skip
    return Snapshot(NOW, (DataCenter("dc"),), (cluster,), host_objs, tuple(placed))


def _timed(fn: Callable[[], Plan], repeat: int) -> tuple[Plan, float]:
    samples, plan = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        plan = fn()
        samples.append(time.perf_counter() - began)
    assert plan is not None
    return plan, statistics.median(samples)


def staying(snap: Snapshot) -> set[str]:
    """The hosts no plan may release: those running a pinned or non-migratable VM."""
    return {v.host for v in snap.vms if v.active and (v.pinned or not v.migratable)}


def capacities(
    snap: Snapshot, params: Params, *, pinned: bool = False, plain: bool = False
) -> tuple[tuple[float, float, float], list[Capacity], list[Capacity]]:
    """What the bounds count: the need (CPUs of demand, MiB, vCPUs; plain: no vCPUs), the
    capacities of the hosts a plan may release and of those it must keep (pinned: the hosts
    running a pinned or non-migratable VM; else none). Memory in whole VMs unless plain."""
    active = [v for v in snap.vms if v.active]
    need = (
        sum((v.cpu_usage or 0.0) * v.vcpus for v in active),
        float(sum(v.memory_mib for v in active)),
        0.0 if plain else float(sum(v.vcpus for v in active)),
    )
    overcommit = snap.clusters[0].memory_overcommit_percent
    step = 1 if plain else memory_step(v.memory_mib for v in active)
    stay = staying(snap) if pinned else set()

    free = [_capacity(h, params, overcommit, step) for h in snap.hosts if h.name not in stay]
    return (
        need,
        free,
        [_capacity(h, params, overcommit, step) for h in snap.hosts if h.name in stay],
    )


def _capacity(h: Host, params: Params, overcommit: int, step: int) -> Capacity:
    """A host's room as every bound counts it: CPU at HighUtilization, memory over-committed
    with the free-memory margin kept (in steps of `step` MiB), vCPUs at MaxVcpusPerCpu."""
    return host_capacity(
        h.cpus,
        h.memory_mib * overcommit // 100,
        cpu_share=params.high,
        keep_free_mib=params.max_free_memory_over_mib,
        vcpus_per_cpu=params.max_vcpus_per_cpu,
        mem_step_mib=step,
    )


def shapes(
    snap: Snapshot, params: Params
) -> tuple[
    list[Capacity], list[Capacity], list[tuple[Capacity, Capacity | None]], dict[str, Capacity]
]:
    """What the shape bound counts (bench.shape_bound): the capacities of the hosts a plan may
    release and of those it must keep (as capacities() with pinned), each active VM's need
    (CPUs of demand, MiB, vCPUs) with its host's capacity when it must stay there, and each
    host's capacity by name."""
    _, free, fixed = capacities(snap, params, pinned=True)
    active = [v for v in snap.vms if v.active]
    overcommit = snap.clusters[0].memory_overcommit_percent
    step = memory_step(v.memory_mib for v in active)
    by_name = {h.name: _capacity(h, params, overcommit, step) for h in snap.hosts}
    vms = [
        (
            Capacity((v.cpu_usage or 0.0) * v.vcpus, float(v.memory_mib), float(v.vcpus)),
            by_name[v.host] if v.pinned or not v.migratable else None,
        )
        for v in active
    ]
    return free, fixed, vms, by_name


def shape_figures(snap: Snapshot, params: Params, plan: Plan) -> dict[str, Any]:
    """The shape bound, its kept hosts per hardware kind against the plan's, and the fewest
    migrations any plan ending with the bound's mix takes: every VM of the hosts it releases
    (the hosts that must stay kept, then per kind those running the most VMs)."""
    free, fixed, vms, by_name = shapes(snap, params)
    bound = shape_bound(free, fixed, vms)
    label = {by_name[h.name]: f"{h.cpus}/{h.memory_mib // 1024}" for h in snap.hosts}
    stay = staying(snap)
    count = Counter(v.host for v in snap.vms if v.active)
    kept = Counter(label[by_name[h]] for h, load in plan.after.items() if load.in_service)
    moves = 0
    for kind, n in bound.mix.items():
        names = [h.name for h in snap.hosts if by_name[h.name] == kind]
        keep = [h for h in names if h in stay]
        keep += sorted((h for h in names if h not in stay), key=lambda h: -count[h])[
            : n - len(keep)
        ]
        moves += sum(count[h] for h in set(names) - set(keep))
    order = sorted(set(label.items()), key=lambda kl: tuple(map(int, kl[1].split("/"))))[::-1]
    return {
        "bound_shape": bound.hosts,
        "after_per_shape": round(plan.metrics.hosts_in_service_after / bound.hosts, 3),
        "shape_exact": bound.exact,
        "shape_lp": round(bound.lp, 2),
        "shape_mix": " ".join(f"{k}:{bound.mix.get(c, 0)}" for c, k in order),
        "kept_mix": " ".join(f"{k}:{kept.get(k, 0)}" for _, k in order),
        "shape_mix_moves_min": moves,
    }


def lower_bound(
    snap: Snapshot,
    params: Params,
    *,
    pinned: bool = False,
    plain: bool = False,
    joint: bool = False,
) -> int:
    """Hosts the demand needs at least, whatever the packing (policies.bound: CPU within
    HighUtilization, memory keeping MaxFreeMemoryForOverUtilized free, vCPUs within
    MaxVcpusPerCpu, whole VMs, resources together). plain: the issue's bound (CPU and memory
    each on its own, no rounding). pinned: the hosts running a pinned or non-migratable VM
    count first (no planner may release them). joint: one set of hosts, the pinned ones among
    them, covers every resource at once (policies.joint_bound; pinned implied)."""
    need, free, fixed = capacities(snap, params, pinned=pinned or joint, plain=plain)
    if joint:
        return joint_bound(need, free, fixed)
    return bound(need, free, fixed, steps=1 if plain else STEPS)


def measure(preset: Preset, hosts: int, vms: int, seed: int) -> dict[str, Any]:
    repeat = 5 if hosts <= 100 else 2
    busy = build(preset, hosts, vms, load=BUSY, seed=seed)
    obs = Observations(NOW)
    balance, t_balance = _timed(lambda: plan_balance(busy, "bench", PARAMS, obs), repeat)
    quiet = build(preset, hosts, vms, load=QUIET, seed=seed + 1, within=True)
    saving, t_saving = _timed(lambda: plan_power_saving(quiet, "bench", PARAMS, obs), repeat)
    b, p = balance.metrics, saving.metrics
    bound = lower_bound(quiet, PARAMS)
    joint = lower_bound(quiet, PARAMS, joint=True)
    released = p.hosts_in_service_before - p.hosts_in_service_after
    return {
        "preset": preset.name,
        "hosts": hosts,
        "vms": vms,
        "balance_ms": round(t_balance * 1000, 1),
        "over_before": b.hosts_over_before,
        "over_after": b.hosts_over_after,
        "cpu_sd_before": round(b.cpu_stddev_before, 3),
        "cpu_sd_after": round(b.cpu_stddev_after, 3),
        "balance_moves": b.migrations,
        "saving_ms": round(t_saving * 1000, 1),
        "in_service_before": p.hosts_in_service_before,
        "in_service_after": p.hosts_in_service_after,
        "bound_plain": lower_bound(quiet, PARAMS, plain=True),
        "lower_bound": bound,
        "after_per_bound": round(p.hosts_in_service_after / bound, 3),
        "bound_pinned": lower_bound(quiet, PARAMS, pinned=True),
        "bound_joint": joint,
        "after_per_joint": round(p.hosts_in_service_after / joint, 3),
        **shape_figures(quiet, PARAMS, saving),
        "saving_moves": p.migrations,
        "moves_per_released": round(p.migrations / released, 1) if released else "-",
        "saving_over_after": p.hosts_over_after,
        "load_average": round(os.getloadavg()[0], 1),  # the machine is shared: times scale
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1000-host size")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--preset", choices=[p.name for p in PRESETS], action="append")
    parser.add_argument("--out", default="policies", help="bench/results/OUT.json")
    parser.add_argument(
        "--sizes", type=lambda s: {int(h) for h in s.split(",")}, help="hosts, e.g. 10,1000"
    )
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for preset in PRESETS:
        if args.preset and preset.name not in args.preset:
            continue
        prev: dict[str, Any] | None = None
        for hosts, vms in SIZES[:2] if args.quick else SIZES:
            if args.sizes and hosts not in args.sizes:
                continue
            row = measure(preset, hosts, vms, args.seed)
            for key in ("balance_ms", "saving_ms"):
                grown = "-" if prev is None else round(row[key] / max(prev[key], 0.01), 1)
                row[key.replace("_ms", "_x_per_10x")] = grown
            rows.append(row)
            prev = row
            print(f"{preset.name}: {hosts} hosts x {vms} VMs done", flush=True)
    print_table(rows)
    path = save(args.out, rows, __doc__ or "")
    print(f"saved {path}")


if __name__ == "__main__":
    main()
