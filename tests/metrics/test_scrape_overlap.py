"""A cold scrape writes each host's block as its statistics arrive: the hosts that answered are
written while a slower host is still being read, and the output keeps the snapshot's order."""

from __future__ import annotations

import asyncio
import time
import urllib.request

from collectors.engine_metrics import EngineMetrics
from collectors.exporter_server import Exporter
from tests.metrics.fakes import FakeConn, FakeLink, host, snapshot, vm


class _Fleet:
    def __init__(self, links: dict[str, FakeLink]) -> None:
        self.links = links
        self._snap = snapshot([host(n) for n in links], [vm(f"vm-{n}", n) for n in links])

    def snapshot(self):
        return self._snap


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as resp:
        return str(resp.read().decode())


def _blocks_written(exp: Exporter, wanted: int) -> int:
    deadline = time.monotonic() + 20  # guards against a hang only
    while exp.collector.blocks.rebuilt < wanted and time.monotonic() < deadline:
        time.sleep(0.02)
    return exp.collector.blocks.rebuilt


async def test_answered_hosts_are_written_while_a_slow_one_is_read() -> None:
    names = ["h0", "slow", "h2"]
    links = {n: FakeLink(n, FakeConn({f"uuid-vm-{n}": {"state.state": 1}})) for n in names}
    links["slow"].release.clear()  # its read waits here until the test lets it go
    exp = Exporter(_Fleet(links), EngineMetrics(), call_timeout=10.0)
    exp.start("127.0.0.1", 0)
    try:
        assert exp.port is not None
        scrape = asyncio.create_task(asyncio.to_thread(_scrape, exp.port))
        written_before_slow = await asyncio.to_thread(_blocks_written, exp, 2)
        links["slow"].release.set()
        body = await scrape
    finally:
        links["slow"].release.set()
        await exp.stop()
    assert written_before_slow == 2  # h0 and h2, before the slow host's statistics came
    ups = [line for line in body.splitlines() if line.startswith("ovtui_host_scrape_up{")]
    assert ups == [f'ovtui_host_scrape_up{{host="{n}"}} 1.0' for n in names]
    states = [line for line in body.splitlines() if line.startswith("ovtui_vm_state{")]
    assert [s.split('"')[1] for s in states] == [f"uuid-vm-{n}" for n in names]
