"""Issue 5 figures: the planners on seeded synthetic clusters of 10x100, 100x2000, 1000x20000.

Pure snapshots built in memory (no libvirt). One cluster per size, identical hosts (32 CPUs,
256 GiB, 150% memory over-commit) so that the lower bound on hosts is well defined. Two loads per
size, both seeded (random.Random(seed)):

- "busy" (daytime): VMs placed with a skew (a few hosts get far more), mean host CPU 55%;
  the balancing planner runs on it: hosts above HighUtilization (80%) before/after, standard
  deviation of host CPU before/after, migrations.
- "quiet" (night): same shapes, mean host CPU 15%; the power-saving planner runs on it:
  hosts in service before/after next to the lower bound
  max(ceil(sum CPU demand / (80% of 32 CPUs)), ceil(sum memory / (usable memory per host))),
  migrations.

Both planners run without a migration budget here (MaxMigrationsPerRound unbounded) to show what
one round can reach; in production the budget keeps rounds short. Planning time is the median
of a few runs; "x per 10x" is the growth factor from the previous size (10x the hosts; the VMs
grow 20x from the first size to the second and 10x from the second to the third).

    python -m bench.policy_figures            # all sizes
    python -m bench.policy_figures --quick    # 10x100 and 100x2000 only
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from bench.common import print_table, save
from ovtui.model import VM, Cluster, DataCenter, Host, HostState, Snapshot, VmState
from policies.balance import plan_balance
from policies.history import Observations
from policies.params import Params
from policies.plan import Plan
from policies.power_saving import plan_power_saving

SIZES = ((10, 100), (100, 2_000), (1_000, 20_000))
HOST_CPUS = 32
HOST_MEMORY_MIB = 256 * 1024
OVERCOMMIT = 150
# (weight, vCPU choices, memory GiB choices)
SHAPES = (
    (30, (1, 2, 2), (2, 4, 4)),
    (30, (2, 4), (4, 8, 8)),
    (20, (4, 4, 8), (8, 16)),
    (10, (8,), (16, 32)),
    (10, (2, 4), (16, 32, 64)),
)
BUSY, QUIET = 0.55, 0.15  # mean host CPU by day and by night
PARAMS = Params(duration_s=0.0, max_migrations=10**9, hosts_in_reserve=0)
NOW = 1_800_000_000.0


def build(hosts: int, vms: int, load: float, seed: int) -> Snapshot:
    """A cluster of `hosts` identical hosts and `vms` VMs with a mean host CPU of `load`."""
    rng = random.Random(seed)
    names = [f"h{i:04d}" for i in range(hosts)]
    limit = HOST_MEMORY_MIB * OVERCOMMIT // 100
    used = dict.fromkeys(names, 0)
    skew = [rng.lognormvariate(0.0, 0.6) for _ in names]
    weights = [s for s, _, _ in SHAPES]
    placed: list[VM] = []
    for j in range(vms):
        _, vcpus_choice, mem_choice = rng.choices(SHAPES, weights)[0]
        vcpus, mem = rng.choice(vcpus_choice), rng.choice(mem_choice) * 1024
        for _ in range(20):
            host = rng.choices(names, skew)[0]
            if used[host] + mem <= limit:
                break
        else:
            host = min(names, key=lambda n: used[n])
        used[host] += mem
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
    scale = load * hosts * HOST_CPUS / sum((v.cpu_usage or 0.0) * v.vcpus for v in placed)
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
            cpus=HOST_CPUS,
            memory_mib=HOST_MEMORY_MIB,
            cpu_usage=min(1.0, busy[n] / HOST_CPUS),
            memory_used_mib=used[n],
            power_management=True,
        )
        for n in names
    )
    cluster = Cluster("bench", "dc", "m", memory_overcommit_percent=OVERCOMMIT,
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


def lower_bound(snap: Snapshot, params: Params) -> int:
    cpu = sum((v.cpu_usage or 0.0) * v.vcpus for v in snap.vms if v.active)
    mem = sum(v.memory_mib for v in snap.vms if v.active)
    usable_cpu = params.high * HOST_CPUS
    usable_mem = HOST_MEMORY_MIB * OVERCOMMIT // 100 - params.max_free_memory_over_mib
    return max(math.ceil(cpu / usable_cpu), math.ceil(mem / usable_mem), 1)


def measure(hosts: int, vms: int, seed: int) -> dict[str, Any]:
    repeat = 5 if hosts <= 100 else 2
    busy = build(hosts, vms, load=BUSY, seed=seed)
    obs = Observations(NOW)
    balance, t_balance = _timed(lambda: plan_balance(busy, "bench", PARAMS, obs), repeat)
    quiet = build(hosts, vms, load=QUIET, seed=seed + 1)
    saving, t_saving = _timed(lambda: plan_power_saving(quiet, "bench", PARAMS, obs), repeat)
    b, p = balance.metrics, saving.metrics
    return {
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
        "lower_bound": lower_bound(quiet, PARAMS),
        "saving_moves": p.migrations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 1000-host size")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for hosts, vms in SIZES[:2] if args.quick else SIZES:
        row = measure(hosts, vms, args.seed)
        if rows:
            prev = rows[-1]
            row["balance_x_per_10x"] = round(row["balance_ms"] / max(prev["balance_ms"], 0.01), 1)
            row["saving_x_per_10x"] = round(row["saving_ms"] / max(prev["saving_ms"], 0.01), 1)
        else:
            row["balance_x_per_10x"] = row["saving_x_per_10x"] = "-"
        rows.append(row)
        print(f"{hosts} hosts x {vms} VMs done", flush=True)
    print_table(rows)
    path = save("policies", rows, __doc__ or "")
    print(f"saved {path}")


if __name__ == "__main__":
    main()
