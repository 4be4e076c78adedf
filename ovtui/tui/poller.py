"""Reading the fleet from the engine: a few GETs per tick, each with a short timeout."""

from __future__ import annotations

import asyncio
from typing import Any

from ovtui.client import AsyncClient
from ovtui.tui.rows import FleetData

POLL_TIMEOUT = 5.0  # a hung engine must show up as a banner, not as a frozen table
EVENT_BATCH = 200


class Poller:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.last_seq: int | None = None

    async def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return await self.client.request("GET", path, params=clean, timeout=POLL_TIMEOUT)

    async def session(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.get("/api/v1/sessions/current")
        return result

    async def fleet(self) -> FleetData:
        hosts, vms, clusters = await asyncio.gather(
            self.get("/api/v1/hosts"), self.get("/api/v1/vms"), self.get("/api/v1/clusters")
        )
        return FleetData.from_json(hosts, vms, clusters)

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
