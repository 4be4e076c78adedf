"""Make "one writer" a checked fact: the first process to open a state directory owns it."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from ovtui.store.errors import StoreError

LOCK_NAME = "state.lock"


class DirLock:
    """An flock on <directory>/state.lock; the kernel drops it when the holder dies, even killed."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreError(
                f"state directory {self.path.parent} is in use by another ovtui process "
                f"(pid {holder}); only the engine writes state: stop it first, or go through "
                "its API",
                path=self.path,
            ) from None
        # The pid is only for the message above; the flock is what excludes.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
