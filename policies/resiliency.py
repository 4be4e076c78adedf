"""The cluster's resiliency policy for a non-operational host (reachable but unfit, e.g. a CPU
model or a storage domain it lacks): which of its VMs are live-migrated away, and where.

Pure. "migrate": every running VM; "migrate_ha_only": only HA VMs; "none": nothing (the VMs keep
running where they are). Placement is maintenance evacuation's (policies/evacuation.py).
"""

from __future__ import annotations

from ovtui.model import HostState, Snapshot
from policies.evacuation import evacuation_plan
from policies.plan import Move, Stuck

POLICIES = ("migrate", "migrate_ha_only", "none")


def resiliency_plan(snap: Snapshot, host_name: str) -> tuple[list[Move], list[Stuck]]:
    host = snap.host(host_name)
    cluster = snap.cluster(host.cluster) if host else None
    if host is None or cluster is None or host.state != HostState.NON_OPERATIONAL:
        return [], []
    policy = cluster.resiliency
    if policy == "none":
        return [], []
    keep = (
        {v.uuid for v in snap.vms_on(host_name) if not v.highly_available}
        if policy == "migrate_ha_only"
        else set()
    )
    view = Snapshot(
        taken_at=snap.taken_at,
        datacenters=snap.datacenters,
        clusters=snap.clusters,
        hosts=snap.hosts,
        vms=tuple(v for v in snap.vms if v.uuid not in keep),
    )
    moves, stuck = evacuation_plan(view, host_name)
    why = f"{host_name} is non-operational ({host.state_reason}); resiliency {policy}: "
    return (
        [
            Move(m.vm_uuid, m.vm_name, m.source, m.target, why + m.reason.split("; ", 1)[-1])
            for m in moves
        ],
        stuck,
    )
