"""CPU weigher: more CPU headroom after the move weighs more (spread); negate to pack."""

from __future__ import annotations

from policies.state import HostRoom
from policies.weights.base import Ask, Weigher


class CpuWeigher(Weigher):
    name = "cpu"

    def raw(self, ask: Ask, room: HostRoom) -> float:
        return -room.cpu_with(ask.cpu)
