"""Network families: per host per network up or not, required ones missing, NIC -> network;
through the exporter's cached per-host text, never stale after a network or NIC change."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric

from collectors.fleet_collector import FleetCollector, ScrapeInput
from ovtui.model import HostNetwork, HostState, NetworkState, Nic, Snapshot, VmDevices
from tests.policies.helpers import host, snap, vm

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(families: list[Metric]) -> Samples:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


class _Scrapes:
    """One long-lived collector (its per-host cache kept between scrapes)."""

    def __init__(self, now: Snapshot) -> None:
        self.now = now
        self.collector = FleetCollector(lambda _budget: ScrapeInput(self.now))
        CollectorRegistry().register(self.collector)

    def samples(self) -> Samples:
        return _samples(list(self.collector.collect()))


NETS = (
    HostNetwork("prod", "br-prod", True, NetworkState.DOWN),
    HostNetwork("bk", "br-bk", False, NetworkState.MISSING),
)
UP = ("ovtui_host_network_up", (("host", "a"), ("network", "prod"), ("required", "true")))
MISSING = ("ovtui_host_required_networks_missing", (("host", "a"),))


def _running(*nics: Nic) -> object:
    return replace(vm("v", "a"), devices=VmDevices(nics=nics))


def test_host_networks_missing_counts_and_nic_networks() -> None:
    running = _running(
        Nic("m1", "bridge", "br-prod", "virtio", "vnet0"),
        Nic("m2", "network", "default", "virtio", "vnet1"),
    )
    hosts = [
        replace(host("a"), networks=NETS),
        replace(host("lost", state=HostState.NON_RESPONSIVE), networks=NETS),
    ]
    got = _Scrapes(snap(hosts, [running])).samples()  # type: ignore[list-item]
    assert got[UP] == 0
    assert got[MISSING] == 1
    assert ("ovtui_host_required_networks_missing", (("host", "lost"),)) not in got  # unknown
    nic = [k for k in got if k[0] == "ovtui_vm_nic_network_info"]
    assert nic == [
        (
            "ovtui_vm_nic_network_info",
            (("interface", "vnet0"), ("network", "prod"), ("uuid", "u-v")),
        )
    ]


def test_a_bridge_back_and_a_nic_plugged_show_in_the_next_scrape() -> None:
    before = _running(Nic("m1", "bridge", "br-prod", "virtio", "vnet0"))
    scrapes = _Scrapes(snap([replace(host("a"), networks=NETS)], [before]))  # type: ignore[list-item]
    assert scrapes.samples()[MISSING] == 1
    back = (replace(NETS[0], state=NetworkState.UP), NETS[1])
    # Only the devices change: VM equality ignores them, the NIC family must not be cached.
    after = _running(
        Nic("m1", "bridge", "br-prod", "virtio", "vnet0"),
        Nic("m9", "bridge", "br-prod", "virtio", "vnet7"),
    )
    scrapes.now = snap([replace(host("a"), networks=back)], [after])  # type: ignore[list-item]
    got = scrapes.samples()
    assert got[UP] == 1 and got[MISSING] == 0
    nics = sorted(dict(k[1])["interface"] for k in got if k[0] == "ovtui_vm_nic_network_info")
    assert nics == ["vnet0", "vnet7"]
