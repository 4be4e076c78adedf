"""Generated fleets of any size for tests and benchmarks (e.g. 10/100/500 hosts x 40 VMs).

Deterministic for a given (hosts, vms_per_host, clusters, seed): random.Random(seed) only.
Host sizes are chosen so that the VMs fit within the cluster's memory over-commit.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace

from ovtui.testdriver_fleet.spec import (
    ClusterSpec,
    DatacenterSpec,
    FleetSpec,
    HostSpec,
    VmSpec,
)

CPU_MODELS = ("Skylake-Server", "EPYC-Rome", "Cascadelake-Server", "EPYC-Milan", "Icelake-Server")
HOST_CPUS = (16, 24, 32, 48, 64, 96, 128)
HOST_MEMORY_GIB = (64, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)
OVERCOMMIT_PERCENT = 150
HOSTS_PER_CLUSTER = 50
#: role -> (weight, vCPU choices, memory GiB choices)
ROLE_SHAPES: dict[str, tuple[int, tuple[int, ...], tuple[int, ...]]] = {
    "web": (24, (1, 2, 2, 4), (2, 4, 4, 8)),
    "api": (20, (2, 4, 4, 8), (4, 8, 8, 16)),
    "db": (8, (4, 8, 16), (16, 32, 64)),
    "cache": (8, (2, 2, 4), (4, 8, 16)),
    "queue": (6, (4, 8), (8, 16, 32)),
    "search": (5, (4, 8), (16, 32)),
    "ci": (10, (2, 4, 8), (4, 8, 16)),
    "batch": (7, (4, 8), (8, 16)),
    "etl": (5, (4, 8), (8, 16, 32)),
    "monitoring": (3, (2, 4), (4, 8)),
    "infra": (3, (1, 2), (2, 4)),
    "jump": (1, (1,), (2,)),
}
_ROLES = tuple(ROLE_SHAPES)
_WEIGHTS = tuple(w for w, _, _ in ROLE_SHAPES.values())


def _vm(rng: random.Random, index: int) -> VmSpec:
    hot = rng.random() < 0.01
    role = rng.choices(_ROLES, _WEIGHTS)[0]
    _, vcpus, mem = ROLE_SHAPES[role]
    draw = rng.random()
    return VmSpec(
        name=f"{role}-{index:06d}",
        vcpus=rng.choice(vcpus),
        memory_mib=rng.choice(mem) * 1024,
        role="hot" if hot else role,
        running=draw >= 0.08,
        ha=role in ("db", "api") and rng.random() < 0.3,
        pinned=0.08 <= draw < 0.10,
        migratable=not 0.10 <= draw < 0.13,
    )


def synthetic_spec(
    hosts: int, vms_per_host: int, *, clusters: int | None = None, seed: int = 0
) -> FleetSpec:
    """A fleet of ``hosts`` hosts with ``vms_per_host`` VMs each, in one data center.

    ``clusters`` defaults to one per 50 hosts (at least one); hosts are spread over clusters in
    contiguous blocks; each cluster gets a CPU model from CPU_MODELS. Database VMs on neighbouring
    hosts of a cluster form two-member anti-affinity groups. About 1% of VMs have role "hot"
    (the synthetic load model keeps them near 100%), 8% are shut off.
    """
    if hosts < 1 or vms_per_host < 0:
        raise ValueError("need hosts >= 1 and vms_per_host >= 0")
    n_clusters = clusters if clusters is not None else max(1, math.ceil(hosts / HOSTS_PER_CLUSTER))
    if not 1 <= n_clusters <= hosts:
        raise ValueError(f"clusters must be between 1 and {hosts}")
    rng = random.Random(seed)
    cluster_specs = tuple(
        ClusterSpec(
            name=f"cluster-{c + 1:02d}",
            datacenter="dc1",
            cpu_model=CPU_MODELS[c % len(CPU_MODELS)],
            memory_overcommit_percent=OVERCOMMIT_PERCENT,
            policy="power_saving" if c % 3 == 2 else "evenly_distributed",
            mode="recommend",
        )
        for c in range(n_clusters)
    )
    host_specs: list[HostSpec] = []
    vm_index = 0
    for h in range(hosts):
        cluster = cluster_specs[h * n_clusters // hosts]
        vms = []
        for _ in range(vms_per_host):
            vms.append(_vm(rng, vm_index))
            vm_index += 1
        # One db VM per host joins a pair group with the neighbouring host (different hosts).
        for i, vm in enumerate(vms):
            if vm.role == "db":
                vms[i] = replace(vm, anti_affinity=f"db-pair-{h // 2:05d}")
                break
        need_mib = sum(vm.memory_mib for vm in vms)
        fits = [g for g in HOST_MEMORY_GIB if g * 1024 * OVERCOMMIT_PERCENT // 100 >= need_mib]
        mem_gib = rng.choice(fits[:2]) if fits else math.ceil(need_mib / 1024 / 64) * 64
        vcpus = sum(vm.vcpus for vm in vms)
        cpu_fits = [c for c in HOST_CPUS if c * 3 >= vcpus] or [HOST_CPUS[-1]]
        host_specs.append(
            HostSpec(
                name=f"host-{h + 1:04d}",
                cluster=cluster.name,
                cpus=rng.choice(cpu_fits[:2]),
                memory_mib=mem_gib * 1024,
                cpu_model=cluster.cpu_model,
                mhz=rng.choice((2100, 2400, 2600, 2800, 3000)),
                vms=tuple(vms),
            )
        )
    return FleetSpec(
        datacenters=(DatacenterSpec("dc1", "Synthetic fleet (libvirt test driver)"),),
        clusters=cluster_specs,
        hosts=tuple(host_specs),
    )
