"""Notices a test engine's event loop that stops answering, and keeps where its thread was.

A stalled loop shows up in a test as a request timing out or a stop that never ends; by then
the stall may be over or its cause buried. The watch pings the loop every second from its own
thread; a ping unanswered for `stall` seconds records the loop thread's stack at that moment.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import traceback

MAX_STALLS = 5  # the first few say where; more only repeat it


def thread_stack(ident: int | None, depth: int = 14) -> str:
    frame = sys._current_frames().get(ident) if ident is not None else None
    if frame is None:
        return "  (thread not running)\n"
    return "".join(traceback.format_stack(frame)[-depth:])


def pending_tasks(loop: asyncio.AbstractEventLoop, most: int = 12) -> str:
    """The loop's unfinished tasks and the line each waits on (read from another thread: a
    diagnostic, racy but harmless)."""
    try:
        tasks = list(asyncio.all_tasks(loop))
    except RuntimeError:  # the set changed while we read it
        return "  (tasks changing; not listed)\n"
    lines = []
    for task in tasks[:most]:
        stack = task.get_stack(limit=1)
        where = (
            f"{stack[0].f_code.co_filename}:{stack[0].f_lineno} {stack[0].f_code.co_name}"
            if stack
            else "?"
        )
        lines.append(f"  {task.get_name()}: {where}\n")
    if len(tasks) > most:
        lines.append(f"  ... and {len(tasks) - most} more\n")
    return "".join(lines)


class LoopWatch:
    def __init__(
        self, loop: asyncio.AbstractEventLoop, thread: threading.Thread, stall: float = 5.0
    ) -> None:
        self._loop, self._thread, self._stall = loop, thread, stall
        self.stalls: list[str] = []
        self._done = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="loop-watch", daemon=True)

    def start(self) -> None:
        self._watcher.start()

    def stop(self) -> None:
        self._done.set()

    def _watch(self) -> None:
        while not self._done.wait(1.0):
            answered = threading.Event()
            try:
                self._loop.call_soon_threadsafe(answered.set)
            except RuntimeError:
                return  # the loop is closed
            began = time.monotonic()
            if answered.wait(self._stall) or self._done.is_set():
                continue
            stack = thread_stack(self._thread.ident)
            while not answered.wait(1.0) and not self._done.is_set():
                pass
            took = time.monotonic() - began
            if len(self.stalls) < MAX_STALLS:
                end = "answered" if answered.is_set() else "still stalled when the watch ended"
                self.stalls.append(
                    f"--- loop stalled {took:.1f} s ({end}); after {self._stall:g} s it was in:\n"
                    + stack
                )
