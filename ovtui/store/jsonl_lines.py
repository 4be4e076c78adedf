"""Finding lines in an append-only file with pread, a block at a time, never the whole file.

`end` is always a line boundary (0 or just after a newline) snapshotted by the caller, so a
concurrent append is never seen half-written. Offsets are byte offsets of a line's first byte;
lines are yielded without their newline.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

BLOCK = 64 * 1024
PROBE_BLOCK = 4 * 1024  # bisection reads one line per probe, a small block is enough


def _pread(fd: int, size: int, offset: int) -> bytes:
    data = os.pread(fd, size, offset)
    if len(data) != size:
        raise OSError(f"file shrank under a reader: wanted {size} bytes at {offset}")
    return data


def lines_backward(fd: int, end: int, block: int = BLOCK) -> Iterator[tuple[int, bytes]]:
    """Complete lines before `end`, last first: O(lines read), whatever the file size."""
    # buf holds the bytes [pos, pos + len(buf)); its first `limit` bytes are not yielded yet.
    # Moving `limit` instead of slicing buf keeps each line O(its length), not O(block).
    pos, buf, limit = end, b"", 0
    while True:
        if limit:
            cut = buf.rfind(b"\n", 0, limit - 1)
            if cut >= 0:
                yield pos + cut + 1, buf[cut + 1 : limit - 1]
                limit = cut + 1
                continue
            if pos == 0:
                yield 0, buf[: limit - 1]
                return
        elif pos == 0:
            return
        size = min(block, pos)
        pos -= size
        buf = _pread(fd, size, pos) + buf[:limit]
        limit = len(buf)


def lines_forward(fd: int, start: int, end: int, block: int = BLOCK) -> Iterator[tuple[int, bytes]]:
    """Lines from `start` (a line start) up to `end`, first first."""
    pos, buf, buf_start = start, b"", start
    while pos < end:
        chunk = _pread(fd, min(block, end - pos), pos)
        pos += len(chunk)
        *lines, buf = (buf + chunk).split(b"\n")
        for line in lines:
            yield buf_start, line
            buf_start += len(line) + 1
    if buf:
        yield buf_start, buf


def last_newline(fd: int, end: int, block: int = BLOCK) -> int:
    """Offset of the last newline before `end`, or -1."""
    pos = end
    while pos > 0:
        size = min(block, pos)
        pos -= size
        found = _pread(fd, size, pos).rfind(b"\n")
        if found >= 0:
            return pos + found
    return -1


def next_line_start(fd: int, offset: int, end: int) -> int:
    """The first line start at or after `offset` (`end` if there is none)."""
    if offset == 0:
        return 0
    pos = offset - 1  # a line starts at `offset` exactly if the byte before it is a newline
    while pos < end:
        size = min(PROBE_BLOCK, end - pos)
        found = _pread(fd, size, pos).find(b"\n")
        if found >= 0:
            return pos + found + 1
        pos += size
    return end


def first_line_after(fd: int, end: int, since: int, seq_of: Callable[[bytes], int | None]) -> int:
    """Where the first record with seq > `since` starts, by bisecting byte offsets.

    Needs seq to increase along the file; lines `seq_of` cannot read are stepped over.
    O(log file size) probes of one line each.
    """

    def seq_at(offset: int) -> int | None:
        start = next_line_start(fd, offset, end)
        for _, line in lines_forward(fd, start, end, PROBE_BLOCK):
            seq = seq_of(line)
            if seq is not None:
                return seq
        return None

    lo, hi = 0, end
    while lo < hi:
        mid = (lo + hi) // 2
        seq = seq_at(mid)
        if seq is None or seq > since:
            hi = mid
        else:
            lo = mid + 1
    return next_line_start(fd, lo, end)
