"""VM NICs as blocking libvirt calls (the host's threads): plug, unplug, link up/down.

On a running VM the change is made live and, for a persistent VM, in its definition too; on a
stopped VM in the definition only. A NIC on a logical network names the libvirt network where the
host realises it that way (it then migrates to any host with that network), else the bridge.
VLAN tags are written the Open vSwitch way (`<virtualport type='openvswitch'/>` and `<vlan>`):
UNTESTED, the lab has neither 802.1Q nor Open vSwitch's kernel datapath.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import libvirt

from ovtui.fleet.reading import vm_state
from ovtui.model import ACTIVE_VM_STATES

MODELS = ("virtio", "e1000", "rtl8139")
Op = Callable[[libvirt.virConnect], str]


@dataclass(frozen=True, slots=True)
class NicSpec:
    mac: str
    network: str
    bridge: str
    libvirt_network: bool
    model: str = "virtio"
    mtu: int = 1500
    vlan: int | None = None
    link: str = "up"


def interface_xml(spec: NicSpec) -> str:
    if spec.libvirt_network:
        head, source = "network", f"<source network={quoteattr(spec.network)}/>"
    else:
        head, source = "bridge", f"<source bridge={quoteattr(spec.bridge)}/>"
    parts = [
        f"<interface type='{head}'>",
        f"<mac address={quoteattr(spec.mac)}/>",
        source,
        f"<model type={quoteattr(spec.model)}/>",
    ]
    if spec.vlan is not None:  # UNTESTED (module docstring)
        parts += ["<virtualport type='openvswitch'/>", f"<vlan><tag id='{spec.vlan}'/></vlan>"]
    if spec.mtu != 1500:
        parts.append(f"<mtu size='{spec.mtu}'/>")
    parts += [f"<link state={quoteattr(spec.link)}/>", "</interface>"]
    return "".join(parts)


def _flags(dom: libvirt.virDomain) -> int:
    if vm_state(dom.info()[0]) not in ACTIVE_VM_STATES:
        return libvirt.VIR_DOMAIN_AFFECT_CONFIG
    live = libvirt.VIR_DOMAIN_AFFECT_LIVE
    return live | libvirt.VIR_DOMAIN_AFFECT_CONFIG if dom.isPersistent() else live


def find_interface(xml: str, mac: str) -> ET.Element | None:
    for el in ET.fromstring(xml).iterfind("devices/interface"):
        found = el.find("mac")
        if found is not None and found.get("address", "").lower() == mac.lower():
            return el
    return None


def add(uuid: str, spec: NicSpec) -> Op:
    def run(conn: libvirt.virConnect) -> str:
        dom = conn.lookupByUUIDString(uuid)
        dom.attachDeviceFlags(interface_xml(spec), _flags(dom))
        return "plugged"

    return run


def remove(uuid: str, mac: str, wait: float = 10.0) -> Op:
    def run(conn: libvirt.virConnect) -> str:
        dom = conn.lookupByUUIDString(uuid)
        el = find_interface(dom.XMLDesc(0), mac)
        if el is None:
            raise LookupError(mac)
        flags = _flags(dom)
        dom.detachDeviceFlags(ET.tostring(el, encoding="unicode"), flags)
        if not flags & libvirt.VIR_DOMAIN_AFFECT_LIVE:
            return "removed"
        # A live unplug completes when the guest releases the device (ACPI hot-unplug).
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if find_interface(dom.XMLDesc(0), mac) is None:
                return "unplugged"
            time.sleep(0.2)
        return "unplug requested; the guest has not released the device yet"

    return run


def set_link(uuid: str, mac: str, state: str) -> Op:
    def run(conn: libvirt.virConnect) -> str:
        dom = conn.lookupByUUIDString(uuid)
        el = find_interface(dom.XMLDesc(0), mac)
        if el is None:
            raise LookupError(mac)
        link = el.find("link")
        if link is None:
            link = ET.SubElement(el, "link")
        link.set("state", state)
        dom.updateDeviceFlags(ET.tostring(el, encoding="unicode"), _flags(dom))
        return f"link {state}"

    return run
