"""The event loop starts no host's first worker thread.

Thread.start() waits until the new thread runs; with hundreds of hosts' threads busy that is a
wait for the GIL, and on the loop it stalls every host (500 hosts: one such wait per host at
start-up, each longer the more hosts). The test counts, by thread, who starts each host pool's
first thread while a fleet starts and reconnects (no timing involved).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from collectors.synthetic_load import SyntheticLoad
from ovtui.fleet.fleet import Fleet
from ovtui.model import HostState
from ovtui.testdriver_fleet import synthetic_spec
from tests.fleet.conftest import fleet_config


@pytest.fixture
def first_thread_starters(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """(thread started, thread that started it) for each host pool's first thread."""
    seen: list[tuple[str, str]] = []
    real = threading.Thread.start

    def start(self: threading.Thread, *args: Any, **kwargs: Any) -> None:
        if self.name.startswith("host-") and self.name.endswith("_0"):
            seen.append((self.name, threading.current_thread().name))
        real(self, *args, **kwargs)

    monkeypatch.setattr(threading.Thread, "start", start)
    yield seen


async def test_no_host_pool_starts_its_first_thread_on_the_loop(
    first_thread_starters: list[tuple[str, str]],
) -> None:
    spec = synthetic_spec(6, 4, clusters=1, seed=3)
    fleet = Fleet(
        fleet_config(spec, poll_interval_seconds=3600), synthetic_load=SyntheticLoad().vm_cpu
    )
    loop_thread = threading.current_thread().name
    await fleet.start()
    try:
        await fleet.wait_connected(30)
        # A host whose calls hung: its threads are abandoned, a fresh pool opens it again.
        link = fleet.links[spec.hosts[0].name]
        link._abandon_threads()
        link.mark_lost("test: reconnect")
        for _ in range(1500):  # a bound, not a timing: the reconnect begins at once
            if link.state == HostState.UP and len(first_thread_starters) > len(spec.hosts):
                break
            await asyncio.sleep(0.02)
    finally:
        await fleet.stop()
    started = [name for name, _by in first_thread_starters]
    assert len(started) == len(spec.hosts) + 1, started  # every host's, and the fresh pool's
    assert all(by != loop_thread for _name, by in first_thread_starters), first_thread_starters
