"""Logical network families: each host's networks, and which VM NIC is on which network.

`ovtui_vm_nic_network_info{uuid,interface,network}` joins the per-NIC traffic counters
(`ovtui_vm_network_*_total{uuid,interface}`, libvirt's bulk statistics) to the logical network
the NIC plugs into, so traffic per network is a PromQL sum (the recording rules in
rules/ovtui-networks.yml), and a VM that moves or stops never makes a summed counter go back.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from ovtui.model import HostState, Snapshot
from policies.filters.networks import nic_network


def network_families(snapshot: Snapshot) -> Iterator[Metric]:
    state = GaugeMetricFamily(
        "ovtui_host_network_up",
        "1 when the bridge of a network of the host's cluster is there and up, 0 otherwise",
        labels=["host", "network", "required"],
    )
    missing = GaugeMetricFamily(
        "ovtui_host_required_networks_missing",
        "Required networks of the host's cluster that are not up on it (grace period or not)",
        labels=["host"],
    )
    nic = GaugeMetricFamily(
        "ovtui_vm_nic_network_info",
        "The logical network a running VM's NIC (host-side interface) is on; join on uuid, "
        "interface",
        labels=["uuid", "interface", "network"],
    )
    hosts = {h.name: h for h in snapshot.hosts}
    for h in snapshot.hosts:
        if not h.networks or h.state in (HostState.NON_RESPONSIVE, HostState.CONNECTING):
            continue  # not read: its networks are unknown, not missing
        for n in h.networks:
            state.add_metric([h.name, n.name, "true" if n.required else "false"], 1 if n.ok else 0)
        missing.add_metric([h.name], sum(1 for n in h.networks if n.required and not n.ok))
    for vm in snapshot.vms:
        host = hosts.get(vm.host)
        if host is None or not host.networks or vm.devices is None or not vm.active:
            continue
        for card in vm.devices.nics:
            net = nic_network(host.networks, card.type, card.source)
            if net is not None and card.target:
                nic.add_metric([vm.uuid, card.target, net.name], 1)
    yield from (state, missing, nic)
