"""A VM goes only to a host that has every logical network its NICs are on, up.

A NIC is on a logical network when it plugs into the network's bridge (`<interface
type="bridge">`) or names it (`<interface type="network">`, a libvirt network of that name;
libvirt shows it as type "bridge" with that source while the VM runs).
NICs on anything else (libvirt's "default", a host device) are not ovtui's to check. A VM whose
devices have not been read yet cannot be checked and passes: the poll reads them within seconds.
"""

from __future__ import annotations

from ovtui.model import VM, Host, HostNetwork
from policies.filters.base import FilterContext, HostFilter
from policies.state import HostRoom


def nic_network(nets: tuple[HostNetwork, ...], kind: str, source: str) -> HostNetwork | None:
    # A running VM's live XML shows a NIC on a bridge-mode libvirt network as type "bridge"
    # with the network's name as its source (ovtui.fleet.reading._nic reads the network first).
    for net in nets:
        if kind in ("bridge", "network") and source == net.name:
            return net
        if kind == "bridge" and source == net.bridge:
            return net
    return None


def lacks_network(vm: VM, host: Host) -> str | None:
    """Why `host` cannot carry `vm`'s NICs, or None (also used by the maintenance evacuation)."""
    nets = host.networks
    if not nets or vm.devices is None:
        return None
    for nic in vm.devices.nics:
        net = nic_network(nets, nic.type, nic.source)
        if net is not None and not net.ok:
            return (
                f"{host.name} lacks network {net.name} of {vm.name} "
                f"(bridge {net.bridge} {net.state.value})"
            )
    return None


class NetworksFilter(HostFilter):
    name = "networks"

    def refuse(self, ctx: FilterContext, vm: VM, room: HostRoom) -> str | None:
        return lacks_network(vm, room.host)
