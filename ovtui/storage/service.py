"""Keeps every storage domain realised on every host that must see it, and its reading cached.

One task ticks each second: a pair (domain, host) is realised again when its host connected
anew, when its refresh interval has passed, or when an operation asked for it (`refresh`). The
API and the exporter read the cache, never libvirt. Calls run on the host's own threads with
the per-call timeout (HostLink.call); a pool call that hangs is reported as such and is not
asked again until its thread returns, so a hung pool ties up one worker, never the engine.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from ovtui.config.schema import Config
from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.fleet.errors import FleetError
from ovtui.fleet.host_link import HostLink
from ovtui.model import VM, HostState
from ovtui.storage.model import PoolReading
from ovtui.storage.pool_xml import pool_name
from ovtui.storage.pools import ensure_pool
from ovtui.storage.topology import hosts_of

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
Pair = tuple[str, str]  # (domain, host)


class StorageService:
    def __init__(
        self,
        config: Config,
        links: Mapping[str, HostLink],
        on_host_change: Callable[[str], None] = lambda _h: None,
    ) -> None:
        """`on_host_change(host)`: whether a host can use its domains changed (non_operational)."""
        self.config = config
        self._links = links
        self._on_host_change = on_host_change
        self._domains = {sd.name: sd for sd in config.storage_domains}
        self._pairs: list[Pair] = [
            (sd.name, h) for sd in config.storage_domains for h in hosts_of(config, sd)
        ]
        # Per host, its domains in config order: asked for at every rebuild of a host (each
        # poll), so looked up by host instead of scanning every pair (domains x hosts).
        self._domains_on: dict[str, list[str]] = {}
        for domain, h in self._pairs:
            self._domains_on.setdefault(h, []).append(domain)
        self.readings: dict[Pair, PoolReading] = {}
        self._realised_on: dict[Pair, float | None] = {}  # link.connected_at when last read
        self._read_mono: dict[Pair, float] = {}
        # Pool calls that timed out, since when: a daemon that hangs as a whole times out here
        # too, and that host is non_responsive (its poll says so), not non_operational.
        self._hung_since: dict[Pair, float] = {}
        self._busy: set[Pair] = set()  # a call's thread has not returned (added/removed there)
        self._busy_lock = threading.Lock()
        self._asked: set[Pair] = set()
        self._disk_index: dict[str, str] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self._pairs:
            self._task = asyncio.create_task(self._run(), name="storage-domains")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    # -- reading ---------------------------------------------------------------------------
    def domain(self, name: str) -> StorageDomainConfig | None:
        return self._domains.get(name)

    def domains(self) -> list[StorageDomainConfig]:
        return list(self._domains.values())

    def reading(self, domain: str, host: str) -> PoolReading:
        found = self.readings.get((domain, host))
        if found is not None and self._links[host].state == HostState.UP:
            return found
        link = self._links[host]
        if link.state != HostState.UP:
            why = f"host is {link.state.value} ({link.reason})" if link.reason else link.state.value
            return replace(found or PoolReading(domain, host, ""), state="unknown", error=why)
        return PoolReading(domain, host, "unknown", error="not read yet")

    def hosts(self, domain: str) -> tuple[str, ...]:
        return tuple(h for d, h in self._pairs if d == domain)

    def problem_of(self, host: str) -> str | None:
        """Why host cannot use a shared domain of its data center (oVirt: non_operational)."""
        for domain in self._domains_on.get(host, ()):
            if not self._domains[domain].shared:
                continue
            reading = self.readings.get((domain, host))
            hung = self._hung_since.get((domain, host))
            if hung is not None and time.monotonic() - hung < self._hung_grace(host):
                continue  # the host's own poll decides first whether it answers at all
            if reading is not None and reading.state in ("error", "inactive", "inaccessible"):
                return f"cannot activate storage domain {domain}: {reading.error or reading.state}"
        return None

    def active_on(self, host: str) -> frozenset[str]:
        """The domains whose pool is active on host now."""
        found = self.readings
        return frozenset(
            d
            for d in self._domains_on.get(host, ())
            if (r := found.get((d, host))) is not None and r.usable
        )

    def domain_of_disk(self, source: str) -> str | None:
        """Which domain holds a VM disk named `source` (model.Disk.source): pool/volume, a
        volume's path, or an iSCSI LUN's network name."""
        return self._disk_index.get(source)

    def disks_shared(self, vm: VM) -> bool:
        """Every disk of vm is on a shared domain (and it has one): migration copies no disk."""
        disks = (
            [d for d in vm.devices.disks if d.device == "disk" and d.source] if vm.devices else []
        )
        domains = [self.domain_of_disk(d.source) for d in disks]
        return bool(disks) and all(d is not None and self._domains[d].shared for d in domains)

    def _index(self) -> None:
        index: dict[str, str] = {}
        for (domain, _h), r in self.readings.items():
            sd = self._domains[domain]
            for v in r.volumes:
                index[f"{pool_name(domain)}/{v.name}"] = domain
                index[v.path] = domain
                if sd.type == "iscsi" and v.name.startswith("unit:"):
                    index[f"iscsi:{sd.target}/{v.name.rsplit(':', 1)[-1]}"] = domain
        self._disk_index = index

    # -- acting ----------------------------------------------------------------------------
    def request(self, domain: str, host: str | None = None) -> None:
        """Ask for a fresh reading soon (after a disk operation changed the pool)."""
        self._asked.update((d, h) for d, h in self._pairs if d == domain and host in (None, h))
        self._wake.set()

    async def refresh(self, domain: str, host: str) -> PoolReading:
        """Realise and read now; returns the reading (state `error` if it failed)."""
        await self._realise((domain, host))
        return self.reading(domain, host)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            due = [p for p in self._pairs if self._due(p)]
            if due:
                await asyncio.gather(*(self._realise(p) for p in due))
            try:
                async with asyncio.timeout(TICK_SECONDS):
                    await self._wake.wait()
            except TimeoutError:
                pass

    def _due(self, pair: Pair) -> bool:
        link = self._links[pair[1]]
        if link.state != HostState.UP or pair in self._busy:
            return False
        if pair in self._asked or self._realised_on.get(pair, -1.0) != link.connected_at:
            return True
        every = self._domains[pair[0]].refresh_seconds
        return time.monotonic() - self._read_mono.get(pair, 0.0) >= every

    async def _realise(self, pair: Pair) -> None:
        domain, host = pair
        sd, link = self._domains[domain], self._links[host]
        self._asked.discard(pair)
        connected_at = link.connected_at
        if not self._claim(pair):
            return
        try:
            reading = await link.call(
                lambda conn: self._in_thread(pair, ensure_pool, conn, sd, host),
                action=f"realise storage domain {domain}",
                hung_means_lost=False,
            )
        except FleetError as exc:
            if exc.kind == "timeout":  # its thread is still inside libvirt: stays busy
                self._hung_since.setdefault(pair, time.monotonic())
                reading = PoolReading(domain, host, "error", error=f"{exc.message} (pool hung?)")
            else:
                self._release(pair)  # it returned, or never started
                if exc.kind == "unavailable" and not exc.raw:
                    return  # the host went away before libvirt was asked: its state says so
                reading = PoolReading(domain, host, "error", error=exc.message)
        self._store(pair, reading, connected_at)

    def _hung_grace(self, host: str) -> float:
        """How long a hung pool call is taken for a hung host: a poll and its timeout, twice."""
        link = self._links[host]
        return 2 * (link.call_timeout + self.config.engine.poll_interval_seconds)

    def _claim(self, pair: Pair) -> bool:
        with self._busy_lock:
            if pair in self._busy:
                return False
            self._busy.add(pair)
            return True

    def _release(self, pair: Pair) -> None:
        with self._busy_lock:
            self._busy.discard(pair)

    def _in_thread(self, pair: Pair, fn: Callable[..., PoolReading], *args: Any) -> PoolReading:
        try:
            return fn(*args)
        finally:
            self._release(pair)

    def _store(self, pair: Pair, reading: PoolReading, connected_at: float | None) -> None:
        before = self.problem_of(pair[1]), self.active_on(pair[1])
        old = self.readings.get(pair)
        if reading.state == "error" and old is not None:
            # Keep the last known sizes: a failed refresh does not make the pool empty.
            reading = replace(old, state="error", error=reading.error)
        if reading.state == "error" and (old is None or old.error != reading.error):
            log.warning("storage domain %s on %s: %s", pair[0], pair[1], reading.error)
        self.readings[pair] = reading
        if reading.state != "error":
            self._hung_since.pop(pair, None)
        self._realised_on[pair] = connected_at
        self._read_mono[pair] = time.monotonic()
        if old is None or old.volumes != reading.volumes:
            self._index()
        if (self.problem_of(pair[1]), self.active_on(pair[1])) != before:
            self._on_host_change(pair[1])
