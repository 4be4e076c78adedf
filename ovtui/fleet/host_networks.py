"""Per host: which networks of its cluster it has, since when one is missing, and the verdict.

Kept on the event loop by the fleet (one tracker per host), fed by each reading. A required
network not up for longer than the grace period makes the host non_operational (oVirt's rule);
an optional one is only shown. A reading without a bridge's answer (host unreachable) changes
nothing: the host is non_responsive then, and the clock is not reset by not looking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ovtui.config.network_schema import NetworkConfig
from ovtui.fleet.bridges import BridgeReading
from ovtui.model import HostNetwork, NetworkState


@dataclass(frozen=True, slots=True)
class Wanted:
    name: str
    bridge: str
    required: bool


def wanted_networks(networks: Iterable[NetworkConfig], cluster: str) -> tuple[Wanted, ...]:
    """The networks (from ovtui.toml and defined through the API) a cluster's hosts need."""
    return tuple(
        Wanted(n.name, n.bridge, n.clusters[cluster] == "required")
        for n in networks
        if cluster in n.clusters
    )


class NetworkTracker:
    def __init__(self, wanted: tuple[Wanted, ...], grace_seconds: float) -> None:
        self.wanted = wanted
        self.grace = grace_seconds
        self._since: dict[str, float] = {}
        self._found: dict[str, BridgeReading] = {}

    def rewant(self, wanted: tuple[Wanted, ...]) -> None:
        """The cluster's networks changed (one defined, deleted or re-attached through the API):
        what was read of a network still wanted on the same bridge is kept, with its clock."""
        before = set(self.pairs)
        keep = {w.name for w in wanted if (w.name, w.bridge) in before}
        self.wanted = wanted
        self._since = {n: t for n, t in self._since.items() if n in keep}
        self._found = {n: r for n, r in self._found.items() if n in keep}

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple((w.name, w.bridge) for w in self.wanted)

    def update(self, found: Mapping[str, BridgeReading], now: float) -> None:
        """`found`: by network name (ovtui.fleet.bridges.read_networks)."""
        for w in self.wanted:
            got = found.get(w.name)
            if got is None or got.state == NetworkState.UNKNOWN:
                continue
            self._found[w.name] = got
            if got.state == NetworkState.UP:
                self._since.pop(w.name, None)
            else:
                self._since.setdefault(w.name, now)

    def networks(self) -> tuple[HostNetwork, ...]:
        out = []
        for w in self.wanted:
            got = self._found.get(w.name)
            out.append(
                HostNetwork(
                    name=w.name,
                    bridge=got.bridge if got and got.bridge else w.bridge,
                    required=w.required,
                    state=got.state if got else NetworkState.UNKNOWN,
                    missing_since=self._since.get(w.name),
                    mtu=got.mtu if got else 0,
                    libvirt_network=got.libvirt_network if got else False,
                )
            )
        return tuple(out)

    def problem(self, now: float) -> str | None:
        """Why the host is unfit for its cluster (a required network gone past the grace), or
        None."""
        late = [
            w
            for w in self.wanted
            if w.required and w.name in self._since and now - self._since[w.name] >= self.grace
        ]
        if not late:
            return None
        parts = [
            f"{w.name} ({self._found[w.name].detail}, for {now - self._since[w.name]:.0f} s)"
            for w in late
        ]
        return "required network missing: " + "; ".join(parts)
