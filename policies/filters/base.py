"""What a host filter is: one rule that can refuse a host for a VM, saying why.

Like nova's scheduler filters, each rule lives in its own small module and knows nothing of the
others; `policies.filters.refusal` runs them in order and returns the first "no".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from ovtui.model import VM
from policies.params import Params
from policies.state import ClusterState, HostRoom


@dataclass(frozen=True, slots=True)
class FilterContext:
    state: ClusterState
    params: Params
    # VMs that move together with the one being placed (members of its affinity group).
    companions: frozenset[str] = field(default_factory=frozenset)


class HostFilter(ABC):
    name: str = ""

    @abstractmethod
    def refuse(self, ctx: FilterContext, vm: VM, room: HostRoom) -> str | None:
        """None when `vm` may run on `room`; otherwise why not, naming both."""
