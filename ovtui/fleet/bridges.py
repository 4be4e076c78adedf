"""Reading a host's bridges through libvirt's interface driver (blocking: the host's threads).

A logical network is realised on a host as a Linux bridge of the network's bridge name; the
host has the network when libvirt knows an interface of that name, of type bridge, and active
(libvirt's udev backend reports a device active when its operstate is up). Read in the same
call as the VM listing, so the per-call timeout and the non_responsive rule cover it too.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

import libvirt

from ovtui.fleet.errors import is_unsupported
from ovtui.model import NetworkState


@dataclass(frozen=True, slots=True)
class BridgeReading:
    state: NetworkState
    mtu: int = 0
    detail: str = ""  # why it is not up, in words


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


def read_bridges(conn: libvirt.virConnect, names: Iterable[str]) -> dict[str, BridgeReading]:
    return {name: read_bridge(conn, name) for name in names}
