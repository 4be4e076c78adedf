"""Logical network families: each host's networks, and which VM NIC is on which network.

The host families are BlockFamily (collectors.host_blocks): they read only `Host.networks` and
the host's state, both compared fields of Host, so they use "host" and are cached with its block.
`ovtui_vm_nic_network_info{uuid,interface,network}` is an ordinary family built each scrape: it
reads the VMs' devices, which VM equality leaves out (a NIC plugged or unplugged changes no
compared field), so a cached block would go stale. It joins the per-NIC traffic counters
(`ovtui_vm_network_*_total{uuid,interface}`, libvirt's bulk statistics) to the logical network
the NIC plugs into, so traffic per network is a PromQL sum (the recording rules in
rules/ovtui-networks.yml), and a VM that moves or stops never makes a summed counter go back.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from collectors.host_blocks import BlockFamily, HostInputs, labels, line
from ovtui.model import Host, HostState, Snapshot
from policies.filters.networks import nic_network

_HOST = frozenset({"host"})


def _read(h: Host | None) -> Host | None:
    """The host, if its networks were read: an unreachable host's are unknown, not missing."""
    if h is None or not h.networks or h.state in (HostState.NON_RESPONSIVE, HostState.CONNECTING):
        return None
    return h


def _up(i: HostInputs) -> Iterator[str]:
    h = _read(i.host)
    for n in h.networks if h is not None else ():
        text = labels(("host", i.name), ("network", n.name), ("required", str(n.required).lower()))
        yield line("ovtui_host_network_up", text, 1 if n.ok else 0)


def _missing(i: HostInputs) -> Iterator[str]:
    h = _read(i.host)
    if h is not None:
        missing = sum(1 for n in h.networks if n.required and not n.ok)
        yield line("ovtui_host_required_networks_missing", labels(("host", i.name)), missing)


HOST_FAMILIES = (
    BlockFamily(
        "ovtui_host_network_up",
        "gauge",
        "1 when the bridge of a network of the host's cluster is there and up, 0 otherwise",
        _HOST,
        _up,
    ),
    BlockFamily(
        "ovtui_host_required_networks_missing",
        "gauge",
        "Required networks of the host's cluster that are not up on it (grace period or not)",
        _HOST,
        _missing,
    ),
)


def nic_families(snapshot: Snapshot) -> Iterator[Metric]:
    nic = GaugeMetricFamily(
        "ovtui_vm_nic_network_info",
        "The logical network a running VM's NIC (host-side interface) is on; join on uuid, "
        "interface",
        labels=["uuid", "interface", "network"],
    )
    hosts = {h.name: h for h in snapshot.hosts if h.networks}
    if not hosts:  # no host has networks read: no VM to look at (20 000 of them: ~9 ms)
        yield nic
        return
    for vm in snapshot.vms:
        host = hosts.get(vm.host)
        if host is None or not host.networks or vm.devices is None or not vm.active:
            continue
        for card in vm.devices.nics:
            net = nic_network(host.networks, card.type, card.source)
            if net is not None and card.target:
                nic.add_metric([vm.uuid, card.target, net.name], 1)
    yield nic
