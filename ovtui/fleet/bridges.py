"""Reading a host's bridges through libvirt's interface driver (blocking: the host's threads).

A logical network is realised on a host either as a libvirt network of the logical network's
name in `bridge` forward mode (its bridge may be named differently on each host: the lab's hosts
share one network namespace), or else as a Linux bridge of the configured bridge name. The host
has the network when libvirt knows that bridge as an interface of type bridge, active (libvirt's
udev backend: operstate up, so a bridge set down, or without a working port, is not), and the
libvirt network, if there is one, is active. Read in the same call as the VM listing, so the
per-call timeout and the non_responsive rule cover it too.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, replace

import libvirt

from ovtui.fleet.errors import is_unsupported
from ovtui.model import NetworkState


@dataclass(frozen=True, slots=True)
class BridgeReading:
    state: NetworkState
    mtu: int = 0
    detail: str = ""  # why it is not up, in words
    bridge: str = ""  # the bridge checked (a libvirt network's, or the configured one)
    libvirt_network: bool = False  # through a libvirt network of the logical network's name


def _libvirt_network(conn: libvirt.virConnect, network: str) -> tuple[str, bool] | None:
    """(bridge, active) of a libvirt network of that name in bridge mode; None: there is none."""
    try:
        net = conn.networkLookupByName(network)
        root = ET.fromstring(net.XMLDesc(0))
        active = bool(net.isActive())
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_NETWORK or is_unsupported(exc):
            return None
        raise
    forward = root.find("forward")
    bridge = root.find("bridge")
    if forward is None or forward.get("mode") != "bridge" or bridge is None:
        return None  # a NAT or routed libvirt network is not a logical network's realisation
    return bridge.get("name", ""), active


def read_network(conn: libvirt.virConnect, network: str, bridge: str) -> BridgeReading:
    found = _libvirt_network(conn, network)
    if found is None:
        return replace(read_bridge(conn, bridge), bridge=bridge)
    name, active = found
    reading = replace(read_bridge(conn, name), bridge=name, libvirt_network=True)
    if not active and reading.state == NetworkState.UP:
        detail = f"libvirt network {network!r} is not active"
        return replace(reading, state=NetworkState.DOWN, detail=detail)
    return reading


def read_bridge(conn: libvirt.virConnect, name: str) -> BridgeReading:
    try:
        iface = conn.interfaceLookupByName(name)
        active = bool(iface.isActive())
        root = ET.fromstring(iface.XMLDesc(0))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_INTERFACE:
            return BridgeReading(NetworkState.MISSING, detail=f"no interface {name!r} on the host")
        if is_unsupported(exc):
            return BridgeReading(
                NetworkState.UNKNOWN, detail="libvirt on this host has no interface driver"
            )
        raise
    mtu_el = root.find("mtu")
    mtu = int(mtu_el.get("size", "0")) if mtu_el is not None else 0
    if root.get("type") != "bridge":
        return BridgeReading(
            NetworkState.MISSING, mtu, f"{name!r} is a {root.get('type')} interface, not a bridge"
        )
    link = root.find("link")
    if not active or (link is not None and link.get("state") == "down"):
        return BridgeReading(NetworkState.DOWN, mtu, f"bridge {name!r} is down")
    return BridgeReading(NetworkState.UP, mtu)


def read_networks(
    conn: libvirt.virConnect, wanted: Iterable[tuple[str, str]]
) -> dict[str, BridgeReading]:
    """(network, configured bridge) pairs -> what the host has, keyed by network name."""
    return {network: read_network(conn, network, bridge) for network, bridge in wanted}
