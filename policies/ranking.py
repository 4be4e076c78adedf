"""Hosts ranked by their room in one resource, in blocks that know the most room their hosts
have in each resource (policies.placement.Headroom keeps three rankings, one per resource).

A packing placement walks the hosts that have room in the scarcest resource, least room
first. Once a cluster is packed most of them lack another resource (the fullest hosts are
full in more than one): a block whose hosts all have less room in some resource than the
unit needs can be passed over whole, so a walk costs the blocks it crosses rather than every
host in them. Blocks are small sorted lists (split when they grow past twice BLOCK), so a
host re-ranked after a move costs one block, not the whole ranking.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

#: Hosts per block, about (a block is split at twice this).
BLOCK = 16

#: (room in the ranked resource, host name, room in CPU, memory, vCPUs): entries sort by
#: the first two (names are unique), the last three say what the host has room for.
Entry = tuple[float, str, float, float, float]
Room = tuple[float, float, float]


def _top(block: list[Entry]) -> Room:
    _, _, cpu, mem, vcpus = zip(*block, strict=True)
    return (max(cpu), max(mem), max(vcpus))


class Ranking:
    """Entries in ascending order, in blocks, each block with the most room of its hosts in
    every resource (`tops`)."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        ordered = sorted(entries)
        self.blocks: list[list[Entry]] = [
            ordered[i : i + BLOCK] for i in range(0, len(ordered), BLOCK)
        ]
        self.firsts: list[Entry] = [b[0] for b in self.blocks]
        self.tops: list[Room] = [_top(b) for b in self.blocks]

    def __len__(self) -> int:
        return sum(map(len, self.blocks))

    def _block_of(self, entry: Entry | tuple[float, str]) -> int:
        return max(0, bisect.bisect_right(self.firsts, entry) - 1)

    def add(self, entry: Entry) -> None:
        if not self.blocks:
            self.blocks, self.firsts, self.tops = [[entry]], [entry], [entry[2:]]
            return
        j = self._block_of(entry)
        block = self.blocks[j]
        bisect.insort(block, entry)
        self.firsts[j] = block[0]
        top = self.tops[j]
        self.tops[j] = (max(top[0], entry[2]), max(top[1], entry[3]), max(top[2], entry[4]))
        if len(block) > 2 * BLOCK:
            half = block[BLOCK:]
            del block[BLOCK:]
            self.blocks.insert(j + 1, half)
            self.firsts.insert(j + 1, half[0])
            self.tops[j] = _top(block)
            self.tops.insert(j + 1, _top(half))

    def remove(self, entry: Entry) -> None:
        j = self._block_of(entry)
        block = self.blocks[j]
        del block[bisect.bisect_left(block, entry)]
        if not block:
            del self.blocks[j], self.firsts[j], self.tops[j]
            return
        self.firsts[j] = block[0]
        if (
            entry[2] >= self.tops[j][0]
            or entry[3] >= self.tops[j][1]
            or entry[4] >= self.tops[j][2]
        ):
            self.tops[j] = _top(block)

    def start(self, probe: tuple[float, str]) -> tuple[int, int]:
        """(block, index in it) of the first entry at or after `probe` ((len(blocks), 0): none)."""
        j = self._block_of(probe)
        if not self.blocks:
            return 0, 0
        i = bisect.bisect_left(self.blocks[j], probe)
        if i == len(self.blocks[j]):
            return j + 1, 0
        return j, i

    def below(self, probe: tuple[float, str]) -> int:
        """Entries before `probe`."""
        j, i = self.start(probe)
        return sum(map(len, self.blocks[:j])) + i

    def ascending(self, j: int, i: int) -> Iterator[Entry]:
        """Entries from (block j, index i) on."""
        for n in range(j, len(self.blocks)):
            yield from self.blocks[n][i if n == j else 0 :]

    def descending(self, stop: tuple[int, int] = (0, 0)) -> Iterator[Entry]:
        """Entries from the last down to (block, index) `stop`, included."""
        j0, i0 = stop
        for n in range(len(self.blocks) - 1, j0 - 1, -1):
            block = self.blocks[n]
            yield from reversed(block[i0:] if n == j0 else block)
