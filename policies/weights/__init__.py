"""Host weighers and the two mixes the policies use."""

from __future__ import annotations

from policies.weights.base import Ask, Weigher, best, normalize, weigh
from policies.weights.cpu import CpuWeigher
from policies.weights.memory import MemoryWeigher

#: Balancing spreads: the most CPU headroom first, then memory.
SPREAD: tuple[Weigher, ...] = (CpuWeigher(1.0), MemoryWeigher(0.5))
#: Power saving packs: the fullest host that still fits first.
PACK: tuple[Weigher, ...] = (CpuWeigher(-1.0), MemoryWeigher(-0.5))

__all__ = [
    "PACK",
    "SPREAD",
    "Ask",
    "CpuWeigher",
    "MemoryWeigher",
    "Weigher",
    "best",
    "normalize",
    "weigh",
]
