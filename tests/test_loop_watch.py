"""The test engines' loop watch (tests/loop_watch.py) names where a stalled loop was."""

from __future__ import annotations

import asyncio
import threading
import time

from tests.loop_watch import LoopWatch


def _blocks_the_loop() -> None:
    time.sleep(2.5)


def test_a_loop_blocked_longer_than_the_stall_limit_is_recorded_with_its_stack() -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    watch = LoopWatch(loop, thread, stall=1.0)
    watch.start()
    try:
        time.sleep(1.5)  # a responsive loop first: nothing recorded
        assert watch.stalls == []
        loop.call_soon_threadsafe(_blocks_the_loop)
        deadline = time.monotonic() + 30
        while not watch.stalls and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(watch.stalls) == 1, watch.stalls
        assert "_blocks_the_loop" in watch.stalls[0]
        assert "answered" in watch.stalls[0]
    finally:
        watch.stop()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
