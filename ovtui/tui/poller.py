"""Reading the fleet from the engine: a few GETs per tick, each with a short timeout.

Hosts and clusters are read at every tick. The VM list is what grows with the fleet (20 000 VMs
are ~10 MB of JSON to fetch and parse), so it is asked for as changes: GET /api/v1/vms?since=
REVISION answers with the VMs changed since the last answer and the UUIDs of those removed,
which are applied to the VMs kept here (a VM not in the answer keeps its row object). Under
measured or synthetic load every running VM's CPU figure moves at each engine reading, mostly
within the whole percent the dashboard shows: the list is asked for with precision=percent, so
a VM counts as changed once its CPU differs at a whole percent from what was last sent (what is
sent is exact). A big fleet's answer can still be large: the next one is asked for after ticks
= VMs in the last answer / VMS_PER_TICK ticks (every tick while few change). An action the user
starts reads it at once (`fleet(vms=True)`).

Most polls bring nothing new (the engine reads its hosts every few seconds; the dashboard asks
every 2 s): each answer's digest is compared with the last one before it is parsed, and a poll
where nothing changed hands back the previous FleetData object itself, which the screens take
as "nothing to do".
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
from collections.abc import Coroutine
from typing import Any

from ovtui.client import ApiError, AsyncClient
from ovtui.tui.rows import FleetData, VmRow

POLL_TIMEOUT = 5.0  # a hung engine must show up as a banner, not as a frozen table
EVENT_BATCH = 200
VMS_PER_TICK = 2000
START = "start"  # the revision that asks for the full VM list (ovtui.api.vm_changes.START)
PRECISION = "percent"  # CPU is shown at whole percents (ovtui.tui.fmt.percent)


class Poller:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.last_seq: int | None = None
        self.vms: tuple[VmRow, ...] = ()
        self._rows: dict[str, tuple[VmRow, ...]] = {}  # UUID -> its rows (one, but for races)
        self.revision = START  # of the last VM answer (GET /api/v1/vms?since=)
        self.vms_sent = 0  # VMs in the last VM answer (tests and the cadence read it)
        self.vm_ticks = 1  # ticks between two reads of the VM list (see the module's doc)
        self._ticks_since_vms: int | None = None  # None: never read
        self.vms_read_at = 0.0
        self.data = FleetData()  # the last reading
        self.unchanged = 0  # polls that found nothing new (tests read it)
        self.vm_reads = 0  # GETs of the VM list
        self._seen: dict[str, tuple[bytes, Any]] = {}  # path -> (digest, what it parsed to)

    async def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return await self.client.request("GET", path, params=clean, timeout=POLL_TIMEOUT)

    async def _read(self, path: str) -> tuple[Any, bool]:
        """(the answer, whether it differs from the last answer to this path): an answer equal
        to the last is not parsed again and is the same object."""
        body = await self.client.get_bytes(path, timeout=POLL_TIMEOUT)
        digest = hashlib.blake2b(body, digest_size=16).digest()
        seen = self._seen.get(path)
        if seen is not None and seen[0] == digest:
            return seen[1], False
        parsed = json.loads(body)
        self._seen[path] = (digest, parsed)
        return parsed, True

    async def session(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.get("/api/v1/sessions/current")
        return result

    async def fleet(self, vms: bool = False) -> FleetData:
        """One tick's reading; the VMs are those of the last VM read unless one is due
        (or `vms`). A FleetData whose `vms` is the previous one's object was not re-read or
        did not change; the previous FleetData itself when nothing changed at all."""
        due = vms or self._ticks_since_vms is None or self._ticks_since_vms + 1 >= self.vm_ticks
        reads: list[Coroutine[Any, Any, Any]] = [
            self._read("/api/v1/hosts"),
            self._read("/api/v1/clusters"),
        ]
        if due:
            reads.append(self._changes())
        (hosts, hosts_new), (clusters, clusters_new), *_ = await asyncio.gather(*reads)
        if due:
            self._ticks_since_vms = 0
            self.vms_read_at = time.time()
            self.vm_reads += 1
            self.vm_ticks = max(1, math.ceil(self.vms_sent / VMS_PER_TICK))
        else:
            self._ticks_since_vms = (self._ticks_since_vms or 0) + 1
        # Not the answer's flag: changes applied in a poll whose other GETs failed show now.
        vms_new = self.vms is not self.data.vms
        if hosts_new or clusters_new or vms_new or not self.data.hosts:
            self.data = FleetData.from_json(hosts, [], clusters, parsed=self.vms)
        else:
            self.unchanged += 1
        return self.data

    async def _changes(self) -> None:
        """Applies what changed in the VM list since the last answer (self.vms is a new tuple
        when anything did)."""
        try:
            body = await self.client.get_bytes(
                "/api/v1/vms",
                {"since": self.revision, "precision": PRECISION},
                timeout=POLL_TIMEOUT,
            )
        except ApiError as exc:
            if exc.status == 422:  # a revision this engine refuses: start again from the full list
                self.revision = START
            raise
        answer = json.loads(body)
        self.revision, sent, removed = answer["revision"], answer["vms"], answer["removed"]
        self.vms_sent = len(sent)
        if answer["full"]:
            self._rows = {}
        elif not sent and not removed:
            return
        rows = self._rows
        for uuid in removed:
            rows.pop(uuid, None)
        fresh: dict[str, tuple[VmRow, ...]] = {}
        for d in sent:
            row = VmRow.from_json(d)
            fresh[row.uuid] = (*fresh[row.uuid], row) if row.uuid in fresh else (row,)
        rows.update(fresh)  # a VM kept keeps its place; a new one comes last
        self.vms = tuple(row for copies in rows.values() for row in copies)

    async def events(self) -> list[dict[str, Any]]:
        """New events, oldest first: the latest batch at start, then only what came since."""
        query = {"since": self.last_seq, "limit": EVENT_BATCH}
        body = await self.client.get_bytes("/api/v1/events", query, timeout=POLL_TIMEOUT)
        batch: list[dict[str, Any]] = json.loads(body)
        if batch:
            self.last_seq = max(int(e.get("seq", 0)) for e in batch)
        elif self.last_seq is None:
            self.last_seq = 0
        return batch
