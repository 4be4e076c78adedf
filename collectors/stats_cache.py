"""Per-host statistics for scrapes: every host read in parallel, each within the scrape's budget.

- Reuse: statistics younger than `max_age` are served again, so two Prometheus servers (or a
  scrape plus a curl) do not double the load on libvirt.
- One read at a time per host: a scrape joins the read already running instead of starting
  another, so a slow host never piles up calls on its threads.
- A read that outlives the scrape keeps running and fills the cache for the next scrape; meanwhile
  the last good statistics are served if younger than `stale_limit` (their age is exported), so a
  busy host that needs 20 s per read still has data on every scrape.
- A read that fails makes the host `up 0` at once; a host the fleet does not consider up is
  refused without touching libvirt. Reads run through the host's own link (its threads, its
  timeout) with ``hung_means_lost=False``: slow statistics say nothing about the connection —
  the fleet's own poll decides that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

from collectors.bulk_stats import BULK, HostStats, read_host_stats

T = TypeVar("T")
ErrorSink = Callable[[str, str, str], None]  # host, call, kind


class StatsLink(Protocol):
    """What the cache needs of a host link (ovtui.fleet.host_link.HostLink fits)."""

    name: str
    driver: str

    async def call(
        self,
        fn: Callable[[Any], T],
        *,
        action: str,
        vm: str | None = None,
        timeout: float | None = None,
        hung_means_lost: bool = True,
    ) -> T: ...


@dataclass(frozen=True, slots=True)
class HostScrape:
    """What one scrape knows about one host's statistics."""

    host: str
    up: bool
    stats: HostStats | None = None
    duration: float = 0.0  # seconds the libvirt read behind `stats` took (or the failed one)
    age: float | None = None  # seconds since `stats` were read
    error: str = ""


@dataclass(slots=True)
class _Entry:
    good: HostStats | None = None
    good_duration: float = 0.0
    inflight: asyncio.Task[tuple[HostStats | None, float, str]] | None = None
    nowait: bool = True
    skip: frozenset[str] = frozenset()


class StatsCache:
    def __init__(
        self,
        links: Mapping[str, StatsLink],
        *,
        max_age: float = 5.0,
        stale_limit: float = 60.0,
        call_timeout: float = 10.0,
        on_error: ErrorSink = lambda _h, _c, _k: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.links = links
        self.max_age, self.stale_limit, self.call_timeout = max_age, stale_limit, call_timeout
        self._on_error = on_error
        self._clock = clock
        self._entries = {name: _Entry() for name in links}

    async def scrape(self, budget: float) -> dict[str, HostScrape]:
        """Every host's statistics, within `budget` seconds however slow some hosts are."""
        deadline = self._clock() + budget
        found = await asyncio.gather(*(self._host(name, deadline) for name in self.links))
        return {s.host: s for s in found}

    async def scrape_each(self, budget: float) -> AsyncIterator[list[HostScrape]]:
        """The same as scrape(), in batches as the hosts become known (fastest first), so that
        a scrape can write the hosts that answered while it waits for the others. Every host
        whose statistics are still fresh comes in the first batch, and the reads that ended
        in the same turn of the loop come together: each batch is one hand-over to the scrape's
        thread, and each hand-over waits for the GIL (up to a switch interval, 5 ms, on a busy
        engine: 500 of them made a 500-host scrape that read nothing take 2-3 s)."""
        deadline = self._clock() + budget
        ready: list[HostScrape] = []
        pending: list[asyncio.Task[HostScrape]] = []
        for name in self.links:
            fresh = self._served(name, self._entries[name], self.max_age)
            if fresh is not None:
                ready.append(fresh)
            else:
                pending.append(asyncio.create_task(self._host(name, deadline)))
        if ready:
            yield ready
        ended: list[asyncio.Task[HostScrape]] = []
        woken = asyncio.Event()

        def end(task: asyncio.Task[HostScrape]) -> None:
            ended.append(task)
            woken.set()

        for task in pending:
            task.add_done_callback(end)
        try:
            left = len(pending)
            while left:
                await woken.wait()
                woken.clear()
                batch = ended[:]
                del ended[:]
                left -= len(batch)
                yield [task.result() for task in batch]
        finally:
            for task in pending:  # the scrape gave up (its consumer closed): no orphans
                task.cancel()

    async def close(self) -> None:
        tasks = [e.inflight for e in self._entries.values() if e.inflight is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _host(self, name: str, deadline: float) -> HostScrape:
        began, entry = self._clock(), self._entries[name]
        fresh = self._served(name, entry, self.max_age)
        if fresh is not None:
            return fresh
        task = entry.inflight
        if task is None:
            task = entry.inflight = asyncio.create_task(self._read(name), name=f"stats-{name}")
        remaining = deadline - self._clock()
        if remaining > 0 and not task.done():
            await asyncio.wait({task}, timeout=remaining)
        if task.done():
            stats, duration, error = task.result()
            if stats is None:
                return HostScrape(name, False, duration=duration, error=error)
            age = max(0.0, self._clock() - stats.monotonic)
            return HostScrape(name, True, stats, duration, age)
        stale = self._served(name, entry, self.stale_limit)
        if stale is not None:
            return stale
        return HostScrape(
            name,
            False,
            duration=self._clock() - began,
            error="statistics read still running (host is slow)",
        )

    def _served(self, name: str, entry: _Entry, limit: float) -> HostScrape | None:
        good = entry.good
        if good is None:
            return None
        age = self._clock() - good.monotonic
        if age > limit:
            return None
        return HostScrape(name, True, good, entry.good_duration, max(0.0, age))

    async def _read(self, name: str) -> tuple[HostStats | None, float, str]:
        entry, link = self._entries[name], self.links[name]
        began = self._clock()
        reader = partial(read_host_stats, nowait=entry.nowait, skip=entry.skip, driver=link.driver)
        try:
            stats = await link.call(
                reader,
                action="read statistics",
                timeout=self.call_timeout,
                hung_means_lost=False,
            )
        except Exception as exc:  # FleetError mostly; a bug must not take the scrape down
            kind = str(getattr(exc, "kind", "internal"))
            if kind != "unavailable":  # refused before libvirt was asked: not a libvirt error
                self._on_error(name, BULK, kind)
            entry.good = None  # never serve statistics older than a failure
            return None, self._clock() - began, str(getattr(exc, "message", exc))
        finally:
            entry.inflight = None
        for call, _message in stats.errors:
            self._on_error(name, call, "hypervisor")
        entry.nowait, entry.skip = stats.nowait, stats.unsupported
        entry.good, entry.good_duration = stats, self._clock() - began
        return stats, entry.good_duration, ""
