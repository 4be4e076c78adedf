"""Plans are data: steps with a reason a person can read. Only the engine acts on them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Move:
    vm_uuid: str
    vm_name: str
    source: str
    target: str
    reason: str


@dataclass(frozen=True, slots=True)
class Stuck:
    """A VM the plan could not place, and why."""

    vm_uuid: str
    vm_name: str
    reason: str
