"""Per-host statistics for scrapes: parallel, bounded by the budget, shared, never piling up."""

from __future__ import annotations

import asyncio
import time

from collectors.stats_cache import StatsCache
from ovtui.fleet.errors import FleetError
from tests.metrics.fakes import FakeConn, FakeLink


def _cache(links: dict[str, FakeLink], errors: list | None = None, **kw) -> StatsCache:
    sink = errors.append if errors is not None else (lambda *_a: None)
    return StatsCache(links, on_error=lambda h, c, k: sink((h, c, k)), **kw)


async def _read_done(cache: StatsCache, host: str) -> None:
    """Until the host's read in flight has finished (a generous deadline, not a sleep)."""
    deadline = time.monotonic() + 30
    while cache._entries[host].inflight is not None:
        assert time.monotonic() < deadline, f"the read of {host} never finished"
        await asyncio.sleep(0.01)


async def test_a_slow_host_is_down_within_the_budget_and_the_others_answer() -> None:
    links = {
        "fast": FakeLink("fast", FakeConn({"uuid-a": {"state.state": 1}})),
        "slow": FakeLink("slow", FakeConn(), delay=5.0),
    }
    cache = _cache(links)
    found = await cache.scrape(budget=0.3)
    assert found["fast"].up and found["fast"].stats is not None
    assert [d.uuid for d in found["fast"].stats.domains] == ["uuid-a"]
    # answered while the slow read still runs (it takes 5 s): the scrape did not wait for it
    assert not found["slow"].up
    assert found["slow"].error == "statistics read still running (host is slow)"
    await cache.close()


async def test_reads_go_through_the_link_without_marking_a_slow_host_lost() -> None:
    link = FakeLink("h1", FakeConn())
    cache = _cache({"h1": link}, call_timeout=7.0)
    await cache.scrape(1.0)
    assert link.calls == [{"action": "read statistics", "timeout": 7.0, "hung_means_lost": False}]


async def test_fresh_statistics_are_reused_so_two_scrapers_cost_one_read() -> None:
    link = FakeLink("h1", FakeConn())
    cache = _cache({"h1": link}, max_age=5.0)
    first = await cache.scrape(1.0)
    second = await cache.scrape(1.0)
    assert len(link.calls) == 1
    assert second["h1"].stats is first["h1"].stats and second["h1"].age is not None


async def test_concurrent_scrapes_join_the_read_in_flight() -> None:
    link = FakeLink("h1", FakeConn(), delay=0.2)
    cache = _cache({"h1": link}, max_age=0.0)
    a, b = await asyncio.gather(cache.scrape(2.0), cache.scrape(2.0))
    assert len(link.calls) == 1 and a["h1"].up and b["h1"].up


async def test_a_read_that_outlives_the_scrape_fills_the_cache_for_the_next_one() -> None:
    link = FakeLink("h1", FakeConn(), delay=0.4)
    cache = _cache({"h1": link}, max_age=0.0, stale_limit=60.0)
    assert not (await cache.scrape(0.1))["h1"].up  # nothing good yet
    await _read_done(cache, "h1")
    found = (await cache.scrape(0.1))["h1"]
    # a new read started (max_age 0) and is slow again: the last good statistics are served
    assert found.up and found.age is not None and found.duration >= 0.4
    assert len(link.calls) == 2
    await cache.close()


async def test_a_still_running_read_is_not_started_twice() -> None:
    link = FakeLink("h1", FakeConn(), delay=1.0)
    cache = _cache({"h1": link})
    await cache.scrape(0.05)
    await cache.scrape(0.05)
    assert len(link.calls) == 1
    await cache.close()


async def test_a_failed_read_is_up_0_and_counted_but_a_refused_one_is_not_a_libvirt_error() -> None:
    errors: list = []
    broken, down = FakeLink("broken", FakeConn()), FakeLink("down", FakeConn())
    broken.fail = FleetError("read statistics on broken failed: boom", kind="hypervisor")
    down.fail = FleetError("refused: host is non_responsive", kind="unavailable")
    cache = _cache({"broken": broken, "down": down}, errors=errors)
    found = await cache.scrape(1.0)
    assert not found["broken"].up and "boom" in found["broken"].error
    assert not found["down"].up
    assert errors == [("broken", "getAllDomainStats", "hypervisor")]


async def test_statistics_older_than_a_failure_are_never_served() -> None:
    link = FakeLink("h1", FakeConn())
    cache = _cache({"h1": link}, max_age=0.0, stale_limit=60.0)
    assert (await cache.scrape(1.0))["h1"].up
    link.fail = FleetError("gone", kind="hypervisor")
    assert not (await cache.scrape(1.0))["h1"].up
    link.fail, link.delay = None, 1.0
    assert not (await cache.scrape(0.05))["h1"].up  # slow now, and nothing good since the failure
    await cache.close()


async def test_fresh_statistics_arrive_in_one_batch_and_reads_as_they_end() -> None:
    # Each batch is one hand-over to the scrape's thread (a wait for the GIL on a busy engine):
    # the hosts served from the cache come together, ahead of the host still being read.
    links = {n: FakeLink(n, FakeConn()) for n in ("a", "b", "slow", "c")}
    links["slow"].fail = FleetError("no answer", kind="timeout", host="slow")
    cache = _cache(links, max_age=60.0)
    await cache.scrape(2.0)  # every host read; the slow one failed, so it has nothing cached
    links["slow"].fail, links["slow"].delay = None, 0.2
    batches = [[s.host for s in batch] async for batch in cache.scrape_each(2.0)]
    assert batches == [["a", "b", "c"], ["slow"]]
    await cache.close()
