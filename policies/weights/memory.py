"""Memory weigher: more free memory (within over-commit) after the move weighs more."""

from __future__ import annotations

from policies.state import HostRoom
from policies.weights.base import Ask, Weigher


class MemoryWeigher(Weigher):
    name = "memory"

    def raw(self, ask: Ask, room: HostRoom) -> float:
        return (room.mem_free - ask.memory_mib) / room.mem_limit if room.mem_limit else 0.0
