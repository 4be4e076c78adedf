"""When the HA reservation is worth computing again.

`ha_reservation` re-plans every host's HA VMs onto the others: hosts times VMs of work. Done at
every 1 s HA tick it kept a 500-host engine too busy to answer its API. What it depends on that
changes suddenly (host states, where the HA VMs run, their sizes and priorities) is compared
cheaply at each tick; free memory and CPU, which drift, are taken into account at least every
REFRESH_SECONDS.

While some VM's config is still pending (start-up, a host reconnected) changes are taken at most
every PENDING_SECONDS: those VMs' sizes arrive a few at a time, changing the inputs at every
tick, and an answer computed with VMs of unknown size is provisional anyway. At 500 hosts the
recompute at every tick took the GIL from the reads that fill those configs in (it took the
500-host start-up about 9 minutes to its complete inventory). And not more than 1/PENDING_SHARE
of the time: a recompute that took a second under load (500 hosts) waits 20 s, not 10, so
that the fill those answers wait for keeps the loop.
"""

from __future__ import annotations

from collections.abc import Hashable

from ovtui.model import Snapshot

REFRESH_SECONDS = 30.0
PENDING_SECONDS = 10.0
PENDING_SHARE = 20  # while pending: wait at least this many times the last recompute took


def reservation_inputs(snap: Snapshot) -> Hashable:
    hosts = tuple((h.name, h.cluster, h.state, h.maintenance) for h in snap.hosts)
    ha = tuple(
        (v.uuid, v.host, v.active, v.memory_mib, v.vcpus, v.ha_priority)
        for v in snap.vms
        if v.highly_available
    )
    return hosts, ha


class ReservationDue:
    def __init__(self, refresh: float = REFRESH_SECONDS, pending: float = PENDING_SECONDS) -> None:
        self._refresh, self._pending = refresh, pending
        self._inputs: Hashable = None
        self._at: float | None = None
        self._took = 0.0

    def took(self, seconds: float) -> None:
        """How long the recompute just done took (paces those made while configs are pending)."""
        self._took = seconds

    def due(self, snap: Snapshot, now: float) -> bool:
        """True (and remembered) when the inputs changed or the last one is `refresh` old; with
        a VM's config pending, not before the last one is `pending` old."""
        if self._at is not None:
            age = now - self._at
            wait = max(self._pending, self._took * PENDING_SHARE)
            if age < wait and any(v.config_pending for v in snap.vms):
                return False
        inputs = reservation_inputs(snap)
        if self._at is not None and inputs == self._inputs and now - self._at < self._refresh:
            return False
        self._inputs, self._at = inputs, now
        return True
