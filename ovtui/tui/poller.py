"""Reading the fleet from the engine: a few GETs per tick, each with a short timeout.

Hosts and clusters are read at every tick. The VM list is what grows with the fleet (20 000 VMs
are ~10 MB of JSON to fetch and parse), so it is read at every tick up to VMS_PER_TICK VMs and
then at most every `ticks` ticks where ticks = VMs / VMS_PER_TICK (every 10 ticks, 20 s, at
20 000): what keeps a dashboard left open on a big fleet from costing a core's share of
polling. An action the user starts reads it at once (`fleet(vms=True)`).
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from ovtui.client import AsyncClient
from ovtui.tui.rows import FleetData, VmRow

POLL_TIMEOUT = 5.0  # a hung engine must show up as a banner, not as a frozen table
EVENT_BATCH = 200
VMS_PER_TICK = 2000


class Poller:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.last_seq: int | None = None
        self.vms: tuple[VmRow, ...] = ()
        self.vm_ticks = 1  # ticks between two reads of the VM list (see the module's doc)
        self._ticks_since_vms: int | None = None  # None: never read
        self.vms_read_at = 0.0

    async def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return await self.client.request("GET", path, params=clean, timeout=POLL_TIMEOUT)

    async def session(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.get("/api/v1/sessions/current")
        return result

    async def fleet(self, vms: bool = False) -> FleetData:
        """One tick's reading; the VMs are those of the last VM read unless one is due
        (or `vms`). A FleetData whose `vms` is the previous one's object was not re-read."""
        due = vms or self._ticks_since_vms is None or self._ticks_since_vms + 1 >= self.vm_ticks
        gets = [self.get("/api/v1/hosts"), self.get("/api/v1/clusters")]
        if due:
            gets.append(self.get("/api/v1/vms"))
        hosts, clusters, *listed = await asyncio.gather(*gets)
        if due:
            self.vms = tuple(VmRow.from_json(v) for v in listed[0])
            self._ticks_since_vms = 0
            self.vm_ticks = max(1, math.ceil(len(self.vms) / VMS_PER_TICK))
            self.vms_read_at = time.time()
        else:
            self._ticks_since_vms = (self._ticks_since_vms or 0) + 1
        return FleetData.from_json(hosts, [], clusters, parsed=self.vms)

    async def events(self) -> list[dict[str, Any]]:
        """New events, oldest first: the latest batch at start, then only what came since."""
        if self.last_seq is None:
            batch: list[dict[str, Any]] = await self.get("/api/v1/events", limit=EVENT_BATCH)
        else:
            batch = await self.get("/api/v1/events", since=self.last_seq, limit=EVENT_BATCH)
        if batch:
            self.last_seq = max(int(e.get("seq", 0)) for e in batch)
        elif self.last_seq is None:
            self.last_seq = 0
        return batch
