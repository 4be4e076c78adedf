"""Driving a terminal app in tmux as an operator would: keys in, screen text out, CPU and RSS.

The app runs in a detached tmux session on a private server (`tmux -L NAME`), in a window of a
fixed size. A key's latency is the time from `send-keys` until `capture-pane` shows the text
that proves the key's result (polled every POLL seconds: the figures are accurate to about
that, plus the time capture-pane itself takes). CPU and RSS are read from /proc/PID of the app.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

POLL = 0.02
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    return kib / 1024


class Tmux:
    """One app in one tmux session; stop() ends the app (by PID) and this tmux server."""

    def __init__(
        self, argv: Sequence[str], env: dict[str, str], size: tuple[int, int], name: str
    ) -> None:
        self.server = name
        cols, rows = size
        command = " ".join(
            ["exec", "env", *(f"{k}={shlex.quote(v)}" for k, v in env.items())]
            + [shlex.quote(a) for a in argv]
        )
        self.began = time.perf_counter()
        self._tmux("new-session", "-d", "-s", "bench", "-x", str(cols), "-y", str(rows), command)
        self.pid = int(self._tmux("display-message", "-p", "-t", "bench", "#{pane_pid}").strip())
        out = self._tmux("display-message", "-p", "#{pid}")
        self.server_pid = int(out.strip())

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.server, *args], check=True, capture_output=True, text=True
        ).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "bench")

    def keys(self, *keys: str) -> None:
        """tmux key names ("Escape", "End", "C-Home") or literal text with literal=True."""
        self._tmux("send-keys", "-t", "bench", *keys)

    def text(self, text: str) -> None:
        self._tmux("send-keys", "-t", "bench", "-l", text)

    def wait(self, done: Callable[[str], bool], timeout: float, since: float) -> float:
        """Seconds from `since` (a perf_counter) until the screen satisfies `done`."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if done(screen):
                return time.perf_counter() - since
            if time.monotonic() > deadline:
                raise TimeoutError(f"screen never matched within {timeout} s:\n{screen}")
            if not Path(f"/proc/{self.pid}").exists():
                raise RuntimeError(f"the app exited; last screen:\n{screen}")
            time.sleep(POLL)

    def press(self, key: str, done: Callable[[str], bool], timeout: float = 30.0) -> float:
        began = time.perf_counter()
        self.keys(key)
        return self.wait(done, timeout, began)

    def idle(self, seconds: float) -> tuple[float, list[float]]:
        """% of one core the app used over `seconds` with no key pressed, and its RSS (MiB)
        sampled each second."""
        cpu0, t0 = cpu_seconds(self.pid), time.perf_counter()
        rss = [rss_mib(self.pid)]
        while time.perf_counter() - t0 < seconds:
            time.sleep(min(1.0, seconds - (time.perf_counter() - t0)))
            rss.append(rss_mib(self.pid))
        return (cpu_seconds(self.pid) - cpu0) / (time.perf_counter() - t0) * 100, rss

    def stop(self) -> None:
        if Path(f"/proc/{self.pid}").exists():
            os.kill(self.pid, signal.SIGTERM)
            end = time.monotonic() + 5
            while Path(f"/proc/{self.pid}").exists() and time.monotonic() < end:
                time.sleep(0.05)
            if Path(f"/proc/{self.pid}").exists():
                os.kill(self.pid, signal.SIGKILL)
        try:
            os.kill(self.server_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
