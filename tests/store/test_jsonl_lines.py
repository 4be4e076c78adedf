"""The block readers agree with a plain split of the file, whatever the block size."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovtui.store.jsonl_lines import (
    first_line_after,
    last_newline,
    lines_backward,
    lines_forward,
    next_line_start,
)

lines_strategy = st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"_")), max_size=12)


@pytest.fixture
def memfile() -> Iterator[int]:
    fd = os.memfd_create("jsonl-lines")
    yield fd
    os.close(fd)


def _fill(fd: int, data: bytes) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _expected(lines: list[bytes]) -> list[tuple[int, bytes]]:
    out, offset = [], 0
    for line in lines:
        out.append((offset, line))
        offset += len(line) + 1
    return out


@settings(max_examples=150, deadline=None)
@given(lines=lines_strategy, block=st.integers(1, 9))
def test_forward_and_backward_match_split(lines: list[bytes], block: int) -> None:
    fd = os.memfd_create("jsonl-lines")
    try:
        data = b"".join(line + b"\n" for line in lines)
        _fill(fd, data)
        expected = _expected(lines)
        assert list(lines_forward(fd, 0, len(data), block)) == expected
        assert list(lines_backward(fd, len(data), block)) == expected[::-1]
        assert last_newline(fd, len(data), block) == data.rfind(b"\n")
        for offset in range(len(data) + 1):
            starts = [o for o, _ in expected if o >= offset]
            assert next_line_start(fd, offset, len(data)) == (starts[0] if starts else len(data))
    finally:
        os.close(fd)


@settings(max_examples=150, deadline=None)
@given(
    seqs=st.lists(st.integers(1, 10_000), unique=True, max_size=30).map(sorted),
    garbage_at=st.sets(st.integers(0, 30), max_size=3),
    since=st.integers(0, 10_001),
)
def test_bisection_finds_the_first_record_after_since(
    seqs: list[int], garbage_at: set[int], since: int
) -> None:
    lines = [f"{seq}:{'x' * (seq % 17)}".encode() for seq in seqs]
    for index in sorted(garbage_at, reverse=True):
        lines.insert(min(index, len(lines)), b"not a record")

    def seq_of(line: bytes) -> int | None:
        head = line.split(b":")[0]
        return int(head) if head.isdigit() else None

    fd = os.memfd_create("jsonl-lines")
    try:
        data = b"".join(line + b"\n" for line in lines)
        _fill(fd, data)
        start = first_line_after(fd, len(data), since, seq_of)
        found = [s for _, line in lines_forward(fd, start, len(data)) if (s := seq_of(line))]
        # Nothing newer than `since` is skipped, and at most garbage precedes the first hit.
        assert [s for s in found if s > since] == [s for s in seqs if s > since]
        assert all(s > since for s in found)
    finally:
        os.close(fd)


def test_an_empty_file_has_no_lines(memfile: int) -> None:
    assert list(lines_forward(memfile, 0, 0)) == []
    assert list(lines_backward(memfile, 0)) == []
    assert last_newline(memfile, 0) == -1
    assert first_line_after(memfile, 0, 5, lambda line: 1) == 0
