"""Replace a file so that a reader (or a crash) sees either the old or the new content."""

from __future__ import annotations

import contextlib
import glob
import os
from pathlib import Path

TEMP_MARK = ".tmp-"


def temp_path_for(path: Path) -> Path:
    # Same directory as the target: os.replace is only atomic within one filesystem.
    return path.with_name(f"{path.name}{TEMP_MARK}{os.getpid()}")


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new directory entry durable, not just the file's data."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = temp_path_for(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_directory(path.parent)


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete temp files a killed writer left behind; the target itself was never touched."""
    removed = []
    for stale in path.parent.glob(f"{glob.escape(path.name)}{TEMP_MARK}*"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
            removed.append(stale)
    return removed
