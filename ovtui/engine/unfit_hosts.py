"""What happens to the VMs of a host that has become unfit for its cluster (a required network
missing past its grace period): the one hook `Engine.on_host_unfit`.

The host is non_operational in the snapshot, so the HA service's resiliency policy moves its VMs
(ovtui/ha/resiliency.py: "migrate" all, "migrate_ha_only" the HA ones, "none" nothing), as it
does for any other non-operational host, audited as `system:ha`. This hook only says so in the
events: a second mover here (the maintenance evacuation did it before HA existed) would move the
same VMs twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ovtui.engine.core import Engine


async def leave_to_resiliency(engine: Engine, host: str, reason: str) -> None:
    cluster = engine.config.cluster(engine.fleet.links[host].cfg.cluster)
    what = (
        "VMs left in place (resiliency none)"
        if cluster.resiliency == "none"
        else f"VMs moved by the resiliency policy ({cluster.resiliency})"
    )
    engine.events.append({"kind": "host", "host": host, "what": what, "detail": reason})
