"""Processes the lab started, named by PID and start time so that a reused PID is never hit.

PID 1 on these machines reaps orphans only now and then, so a process that has exited may
linger as a zombie for a while: a zombie counts as gone.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcRef:
    pid: int
    start: int  # /proc/PID/stat field 22, clock ticks after boot

    def to_json(self) -> dict[str, int]:
        return {"pid": self.pid, "start": self.start}

    @classmethod
    def from_json(cls, data: dict[str, int]) -> ProcRef:
        return cls(pid=int(data["pid"]), start=int(data["start"]))


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time) of a process, or None if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            raw = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name is in parentheses and may itself contain spaces or parentheses.
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def ref_of(pid: int) -> ProcRef | None:
    st = _stat(pid)
    return None if st is None else ProcRef(pid, st[1])


def alive(ref: ProcRef) -> bool:
    st = _stat(ref.pid)
    return st is not None and st[1] == ref.start and st[0] not in ("Z", "X")


def stopped(ref: ProcRef) -> bool:
    st = _stat(ref.pid)
    return st is not None and st[1] == ref.start and st[0] == "T"


def signal_ref(ref: ProcRef, sig: int) -> bool:
    """Send sig only if ref is still the process we started."""
    if not alive(ref):
        return False
    try:
        os.kill(ref.pid, sig)
    except ProcessLookupError:
        return False
    return True


def ns_inode(pid: int, kind: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/{kind}").st_ino
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def pids_in_ns(kind: str, inode: int) -> list[int]:
    """Live processes whose namespace of this kind is inode (e.g. everything a lab host runs)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and ns_inode(int(entry), kind) == inode:
            st = _stat(int(entry))
            if st is not None and st[0] not in ("Z", "X"):
                found.append(int(entry))
    return found


def kill_and_wait(refs: Iterable[ProcRef], timeout: float = 10.0) -> list[ProcRef]:
    """SIGKILL each ref that is still ours and wait for it; returns the ones that survived."""
    pending = [r for r in refs if signal_ref(r, signal.SIGKILL)]
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending = [r for r in pending if alive(r)]
        if pending:
            time.sleep(0.02)
    return pending


def wait_ns_empty(kind: str, inode: int, timeout: float = 10.0) -> list[int]:
    """Wait until no live process is left in a namespace; returns the PIDs still there."""
    deadline = time.monotonic() + timeout
    left = pids_in_ns(kind, inode)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = pids_in_ns(kind, inode)
    return left
