"""The published snapshot and the config boiled down to what the HA machine observes."""

from __future__ import annotations

from ovtui.config.schema import Config
from ovtui.ha.model import Guards, HostObs, VmObs, World
from ovtui.model import HostState, Snapshot


def guards_of(config: Config) -> dict[str, Guards]:
    return {c.name: Guards(**c.ha.model_dump()) for c in config.clusters}


def build_world(snap: Snapshot, config: Config, now: float, started: float) -> World:
    power = {h.name: h.power for h in config.hosts}
    hosts = {}
    for h in snap.hosts:
        state = "maintenance" if h.maintenance else h.state.value
        if h.state == HostState.NON_OPERATIONAL:
            state = "non_operational"  # reachable: the resiliency policy's, not fencing's
        p = power.get(h.name)
        hosts[h.name] = HostObs(
            h.name,
            h.cluster,
            state,
            power_managed=p is not None and p.kind != "none",
            soft_fence=bool(p and p.soft_fence),
        )
    vms: dict[str, VmObs] = {}
    for v in snap.vms:
        seen = vms.get(v.uuid)
        if seen is not None and seen.active:
            continue  # a stale copy elsewhere (a fenced host's old definition) loses
        vms[v.uuid] = VmObs(v.uuid, v.name, v.host, v.active, v.highly_available, v.ha_priority)
    return World(now, started, hosts, vms, guards_of(config))
