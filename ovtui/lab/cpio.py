"""A minimal writer for the cpio "newc" format, the one the Linux kernel unpacks as initramfs.

Written here rather than shelling out to cpio so that building a guest image needs no shell and
produces the same bytes every time (fixed mtimes and inode numbers).
"""

from __future__ import annotations

import gzip
import io
import stat
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    path: str  # without a leading "/"
    mode: int  # full st_mode, file type included
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)  # major, minor for device nodes


def directory(path: str, perm: int = 0o755) -> Entry:
    return Entry(path, stat.S_IFDIR | perm)


def file(path: str, data: bytes, perm: int = 0o644) -> Entry:
    return Entry(path, stat.S_IFREG | perm, data)


def symlink(path: str, target: str) -> Entry:
    return Entry(path, stat.S_IFLNK | 0o777, target.encode())


def chardev(path: str, major: int, minor: int, perm: int = 0o600) -> Entry:
    return Entry(path, stat.S_IFCHR | perm, rdev=(major, minor))


def _pad(n: int) -> bytes:
    return b"\0" * (-n % 4)


def _record(out: io.BytesIO, ino: int, entry: Entry) -> None:
    name = entry.path.encode() + b"\0"
    nlink = 2 if stat.S_ISDIR(entry.mode) else 1
    fields = (ino, entry.mode, 0, 0, nlink, 0, len(entry.data), 0, 0, *entry.rdev, len(name), 0)
    header = b"070701" + b"".join(b"%08X" % f for f in fields)
    out.write(header + name + _pad(len(header) + len(name)))
    out.write(entry.data + _pad(len(entry.data)))


def archive(entries: list[Entry]) -> bytes:
    out = io.BytesIO()
    for ino, entry in enumerate(entries, start=1):
        _record(out, ino, entry)
    _record(out, 0, Entry("TRAILER!!!", 0))
    return out.getvalue()


def initramfs(entries: list[Entry]) -> bytes:
    return gzip.compress(archive(entries), compresslevel=6, mtime=0)
