"""Running a terminal app in a real pseudo-terminal and watching it: first frame, RSS, CPU.

The app is started on the slave side of a pty (as sshd would start it), with a fixed window
size; we read the master side until a marker string has been written: that is the first frame
that shows it. Textual writes each line of a frame as text between escape sequences, so a
marker inside one widget's text arrives in one piece.
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Launch:
    proc: subprocess.Popen[bytes]
    master: int
    first_frame_s: float

    def drain(self, seconds: float) -> None:
        """Keeps reading what the app writes (a full pty would block it) for `seconds`."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if ready:
                try:
                    os.read(self.master, 65536)
                except OSError:
                    return

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        os.close(self.master)


def launch(
    argv: Sequence[str], marker: bytes, env: dict[str, str], size: tuple[int, int], timeout: float
) -> Launch:
    master, slave = os.openpty()
    cols, rows = size
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    began = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color", **env},
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        if time.monotonic() > deadline or proc.poll() is not None:
            Launch(proc, master, 0.0).stop()
            tail = seen[-2000:].decode(errors="replace")
            raise SystemExit(f"{argv[0]}: no {marker!r} within {timeout} s; last output:\n{tail}")
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            seen = (seen + os.read(master, 65536))[-1_000_000:]
    return Launch(proc, master, time.perf_counter() - began)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK
