"""Hand-built snapshots for planner tests: hosts and VMs in one cluster "c", CPU model "m"."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

from ovtui.model import VM, Cluster, DataCenter, Host, HostState, Snapshot, VmState
from policies.history import LoadHistory, Observations

NOW = 1_800_000_000.0
_AUTO = -1.0


def host(
    name: str,
    *,
    cpus: int = 16,
    mem: int = 65536,
    cpu: float | None = _AUTO,
    state: HostState = HostState.UP,
    maintenance: bool = False,
    pm: bool = False,
    cpu_model: str = "m",
) -> Host:
    """cpu: measured host CPU (0..1); by default the sum of its VMs' demand (no overhead)."""
    return Host(
        name=name,
        cluster="c",
        datacenter="dc",
        uri=f"test:///{name}",
        state=state,
        cpu_model=cpu_model,
        cpus=cpus,
        memory_mib=mem,
        cpu_usage=cpu,
        maintenance=maintenance,
        power_management=pm,
    )


def vm(name: str, on: str, *, vcpus: int = 2, mem: int = 4096, usage: float = 0.5, **kw: Any) -> VM:
    state = kw.pop("state", VmState.RUNNING)
    return VM(
        uuid=f"u-{name}",
        name=name,
        host=on,
        cluster="c",
        datacenter="dc",
        state=state,
        vcpus=vcpus,
        memory_mib=mem,
        cpu_usage=usage,
        **kw,
    )


def snap(
    hosts: list[Host],
    vms: list[VM],
    *,
    overcommit: int = 100,
    policy: str = "evenly_distributed",
    params: dict[str, Any] | None = None,
) -> Snapshot:
    """Fills in what the fleet computes: memory used, VMs running, vCPUs, measured CPU."""
    done = []
    for h in hosts:
        active = [v for v in vms if v.host == h.name and v.active]
        busy = sum((v.cpu_usage or 0) * v.vcpus for v in active)
        cpu = h.cpu_usage
        if cpu == _AUTO:
            cpu = min(1.0, busy / h.cpus) if h.state == HostState.UP else None
        done.append(
            replace(
                h,
                cpu_usage=cpu,
                memory_used_mib=sum(v.memory_mib for v in active),
                vms_running=len(active),
                vcpus_committed=sum(v.vcpus for v in active),
            )
        )
    cluster = Cluster(
        "c",
        "dc",
        "m",
        memory_overcommit_percent=overcommit,
        scheduling_policy=policy,
        scheduling_mode="recommend",
        scheduling_params=MappingProxyType(dict(params or {})),
    )
    return Snapshot(
        taken_at=NOW,
        datacenters=(DataCenter("dc"),),
        clusters=(cluster,),
        hosts=tuple(done),
        vms=tuple(vms),
    )


def steady(s: Snapshot, minutes: float = 3.0, every: float = 30.0, **kw: Any) -> Observations:
    """Observations where every host has shown its current CPU for `minutes`."""
    history = LoadHistory(retain_seconds=3600)
    t = NOW - minutes * 60
    while t <= NOW + 1e-9:
        history = history.add(t, {h.name: h.cpu_usage for h in s.hosts})
        t += every
    return Observations(NOW, history, **kw)
