"""While a move is shown, a host's rebuild looks at the move's hosts only, not every host.

Every poll rebuilds its host, and each rebuild with a move in flight asks whether the move has
settled: a walk of every host's link there costs hosts x rebuilds. The test counts the links
looked at (no timing involved).
"""

from __future__ import annotations

from typing import Any

from collectors.synthetic_load import SyntheticLoad
from ovtui.fleet.fleet import Fleet
from ovtui.fleet.host_link import HostLink
from ovtui.testdriver_fleet import synthetic_spec
from tests.fleet.conftest import fleet_config


class CountingLinks(dict[str, HostLink]):
    """The fleet's links, counting every link handed out by lookup or iteration."""

    looked_at = 0

    def __getitem__(self, key: str) -> HostLink:
        self.looked_at += 1
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.looked_at += 1
        return super().get(key, default)

    def items(self) -> Any:
        for item in super().items():
            self.looked_at += 1
            yield item

    def values(self) -> Any:
        for _name, link in self.items():
            yield link


async def test_rebuilds_with_a_move_in_flight_look_at_its_hosts_only() -> None:
    spec = synthetic_spec(12, 2, clusters=1, seed=5)
    config = fleet_config(spec, poll_interval_seconds=3600)
    fleet = Fleet(config, synthetic_load=SyntheticLoad().vm_cpu)
    await fleet.start()
    try:
        await fleet.wait_connected(30)
        vm = next(v for v in fleet.snapshot().vms if v.host == spec.hosts[0].name)
        fleet.begin_move(vm, spec.hosts[1].name, "cold")
        fleet.end_move(vm.uuid)  # ended, not settled: both hosts are to be read again
        links = CountingLinks(fleet.links)
        fleet.links = links
        rebuilds = 20
        for _ in range(rebuilds):
            fleet.invalidate(spec.hosts[5].name)
        assert fleet.moving(vm.uuid) is not None  # still shown: neither host was read
        # The rebuilt host's own link, and the move's two hosts, per rebuild.
        assert links.looked_at <= rebuilds * 3, links.looked_at
    finally:
        await fleet.stop()
