"""What happens to the VMs of a host that has become unfit for its cluster (a required network
missing past its grace period): one entry point, `respond`, so that the resiliency policy of
the HA work can take its place by replacing `Engine.on_host_unfit` and nothing else.

Until then the host-maintenance evacuation moves its VMs (planned first; nothing moves unless
every VM has a place, maintenance.py), acting as a named system principal, audited like any
operator's action. The cluster's `resiliency = "none"` leaves the VMs where they are.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from auth.principal import Principal
from ovtui.fleet.errors import FleetError

if TYPE_CHECKING:
    from ovtui.engine.core import Engine

log = logging.getLogger(__name__)
NETWORK_PRINCIPAL = Principal("system:networks", frozenset({"SuperUser"}), source="system")


async def evacuate(engine: Engine, host: str, reason: str) -> None:
    cluster = engine.config.cluster(engine.fleet.links[host].cfg.cluster)
    if cluster.resiliency == "none":
        engine.events.append(
            {
                "kind": "host",
                "host": host,
                "what": "VMs left in place (resiliency none)",
                "detail": reason,
            }
        )
        return
    try:
        await engine.enter_maintenance(NETWORK_PRINCIPAL, host, reason, source="networks")
    except FleetError as exc:  # audited and in the events by enter_maintenance already
        log.warning("evacuating %s (%s) failed: %s", host, reason, exc.message)
        engine.events.append(
            {"kind": "host", "host": host, "what": "evacuation failed", "detail": exc.message}
        )
