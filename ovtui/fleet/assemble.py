"""Turning one host's reading into model objects: Host and its VMs, with their load."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from collectors.cpu_usage import cpu_fraction
from ovtui.config.schema import ClusterConfig, HostConfig
from ovtui.fleet.reading import DomainReading, HostReading
from ovtui.model import VM, Host, HostNetwork, HostState, LoadSource, VmState

# (vm name, role, unix time) -> share of the VM's vCPUs busy; the demo's synthetic model.
LoadModel = Callable[[str, str, float], float]


@dataclass(frozen=True, slots=True)
class HostFacts:
    """What the fleet knows of a host apart from its reading."""

    cfg: HostConfig
    cluster: ClusterConfig
    link_state: HostState
    link_reason: str
    live_migration: bool
    maintenance: bool
    last_seen: float | None
    # False between a reconnect and the first read on the new connection: the reading is from
    # before the outage, so its VMs are shown in state unknown, as while the host was lost.
    reading_current: bool = True
    # The operator's HA flag and priority for a VM uuid (kept in the store), None: the domain
    # XML's metadata says. Asked with pending=True for a VM whose XML is not read yet (the
    # engine's last known flags then: ovtui/ha/last_known.py). Called for every VM of every
    # rebuild: a dict lookup.
    ha_of: Callable[[str, bool], tuple[bool, int] | None] = lambda _uuid, _pending: None
    networks: tuple[HostNetwork, ...] = ()  # its cluster's networks, as found on it
    network_problem: str | None = None  # a required network missing past the grace period
    # Why the host cannot serve its cluster beyond its CPU (a shared storage domain it cannot
    # activate: ovtui.storage); "" when nothing is wrong.
    unfit_reason: str = ""
    storage_domains: frozenset[str] = frozenset()  # active on this host
    # A disk's source (model.Disk.source) -> the storage domain holding it, or None.
    domain_of_disk: Callable[[str], str | None] = lambda _s: None


def _vm_usage(
    d: DomainReading,
    prev: dict[str, DomainReading],
    elapsed: float,
    wall: float,
    synthetic: LoadModel | None,
) -> float | None:
    if d.state not in (VmState.RUNNING, VmState.BLOCKED):
        return 0.0
    if synthetic is not None:
        return synthetic(d.name, d.meta.role, wall)
    before = prev.get(d.uuid)
    return cpu_fraction(before.cpu_time_ns, d.cpu_time_ns, elapsed, d.vcpus) if before else None


def assemble(
    facts: HostFacts,
    reading: HostReading | None,
    previous: HostReading | None,
    synthetic: LoadModel | None,
) -> tuple[Host, tuple[VM, ...]]:
    cfg, cluster = facts.cfg, facts.cluster
    dc = cluster.datacenter
    source = LoadSource.SYNTHETIC if synthetic is not None else LoadSource.MEASURED
    state, reason = facts.link_state, facts.link_reason
    if reading is None:
        host = Host(
            name=cfg.name,
            cluster=cfg.cluster,
            datacenter=dc,
            uri=cfg.uri,
            state=state,
            state_reason=reason,
            cpus=cfg.cpus or 0,
            memory_mib=cfg.memory_mib or 0,
            load_source=source,
            live_migration=facts.live_migration,
            maintenance=facts.maintenance,
            power_management=cfg.power.kind != "none",
            networks=facts.networks,
            storage_domains=facts.storage_domains,
        )
        return host, ()
    node = reading.node
    cpus = cfg.cpus or node.cpus
    if state == HostState.UP and node.cpu_model != cluster.cpu_model:
        state = HostState.NON_OPERATIONAL
        reason = f"CPU model {node.cpu_model!r} differs from cluster {cluster.cpu_model!r}"
    elif state == HostState.UP and facts.network_problem:
        # Before maintenance: the evacuation this starts puts the host in maintenance, and the
        # operator should still see why it is unfit until the network is back.
        state, reason = HostState.NON_OPERATIONAL, facts.network_problem
    elif state == HostState.UP and facts.unfit_reason:
        state, reason = HostState.NON_OPERATIONAL, facts.unfit_reason
    elif state == HostState.UP and facts.maintenance:
        state, reason = HostState.MAINTENANCE, "in maintenance"
    reachable = facts.link_state == HostState.UP and facts.reading_current
    prev = {d.uuid: d for d in previous.domains} if previous else {}
    elapsed = reading.monotonic - previous.monotonic if previous else 0.0
    vms: list[VM] = []
    busy_vcpus = 0.0
    for d in reading.domains:
        usage = _vm_usage(d, prev, elapsed, reading.wall, synthetic) if reachable else None
        ha = facts.ha_of(d.uuid, d.config_pending) or (d.meta.highly_available, 0)
        vm = VM(
            uuid=d.uuid,
            name=d.name,
            host=cfg.name,
            cluster=cfg.cluster,
            datacenter=dc,
            state=d.state if reachable else VmState.UNKNOWN,
            vcpus=d.vcpus,
            memory_mib=d.memory_mib,
            cpu_usage=usage,
            load_source=source,
            highly_available=ha[0],
            ha_priority=ha[1],
            pinned=d.meta.pinned,
            migratable=d.meta.migratable,
            role=d.meta.role,
            affinity_group=d.meta.affinity_group,
            anti_affinity_group=d.meta.anti_affinity_group,
            persistent=d.persistent,
            memory_current_mib=d.memory_current_mib,
            devices=d.devices,
            storage_domains=_domains_of(d, facts.domain_of_disk),
            config_pending=d.config_pending,
        )
        vms.append(vm)
        if vm.active and usage is not None:
            busy_vcpus += usage * d.vcpus
    active = [v for v in vms if v.active]
    measured = bool(previous) or synthetic is not None
    host = Host(
        name=cfg.name,
        cluster=cfg.cluster,
        datacenter=dc,
        uri=cfg.uri,
        state=state,
        state_reason=reason,
        cpu_model=node.cpu_model,
        cpus=cpus,
        memory_mib=cfg.memory_mib or node.memory_mib,
        cpu_usage=min(1.0, busy_vcpus / cpus) if (cpus and measured and reachable) else None,
        memory_used_mib=sum(v.memory_mib for v in active),
        vms_running=len(active),
        vcpus_committed=sum(v.vcpus for v in active),
        load_source=source,
        live_migration=facts.live_migration,
        maintenance=facts.maintenance,
        power_management=cfg.power.kind != "none",
        last_seen=facts.last_seen,
        networks=facts.networks,
        storage_domains=facts.storage_domains,
        vms_config_pending=sum(1 for v in vms if v.config_pending),
    )
    return host, tuple(vms)


def _domains_of(d: DomainReading, domain_of: Callable[[str], str | None]) -> tuple[str, ...]:
    if d.devices is None:
        return ()
    found = (domain_of(disk.source) for disk in d.devices.disks if disk.source)
    return tuple(sorted({name for name in found if name is not None}))
