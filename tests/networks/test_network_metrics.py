"""Network families: per host per network up or not, required ones missing, NIC -> network."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client.core import Metric

from collectors.network_metrics import network_families
from ovtui.model import HostNetwork, HostState, NetworkState, Nic, VmDevices
from tests.policies.helpers import host, snap, vm


def _samples(families: list[Metric]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def test_host_networks_missing_counts_and_nic_networks() -> None:
    nets = (
        HostNetwork("prod", "br-prod", True, NetworkState.DOWN),
        HostNetwork("bk", "br-bk", False, NetworkState.MISSING),
    )
    running = replace(
        vm("v", "a"),
        devices=VmDevices(
            nics=(
                Nic("m1", "bridge", "br-prod", "virtio", "vnet0"),
                Nic("m2", "network", "default", "virtio", "vnet1"),
            )
        ),
    )
    hosts = [
        replace(host("a"), networks=nets),
        replace(host("lost", state=HostState.NON_RESPONSIVE), networks=nets),
    ]
    got = _samples(list(network_families(snap(hosts, [running]))))
    assert (
        got[("ovtui_host_network_up", (("host", "a"), ("network", "prod"), ("required", "true")))]
        == 0
    )
    assert got[("ovtui_host_required_networks_missing", (("host", "a"),))] == 1
    assert ("ovtui_host_required_networks_missing", (("host", "lost"),)) not in got  # unknown
    nic = [k for k in got if k[0] == "ovtui_vm_nic_network_info"]
    assert nic == [
        (
            "ovtui_vm_nic_network_info",
            (("interface", "vnet0"), ("network", "prod"), ("uuid", "u-v")),
        )
    ]
