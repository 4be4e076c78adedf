"""VM NICs as blocking libvirt calls (the host's threads): plug, unplug, link up/down.

On a running VM the change is made live (attach/detach/update device) and, for a persistent VM,
in its definition too; a stopped VM's definition is rewritten with the change (defineXML of its
inactive XML, secrets included), which every driver can do. A NIC on a logical network names
the libvirt network where the host realises it that way (it then migrates to any host with that
network), else the bridge.
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
    """An active VM: live, and in the definition too when it has one."""
    live = libvirt.VIR_DOMAIN_AFFECT_LIVE
    return live | libvirt.VIR_DOMAIN_AFFECT_CONFIG if dom.isPersistent() else live


def find_interface(xml: str, mac: str) -> ET.Element | None:
    for el in ET.fromstring(xml).iterfind("devices/interface"):
        found = el.find("mac")
        if found is not None and found.get("address", "").lower() == mac.lower():
            return el
    return None


def _active(dom: libvirt.virDomain) -> bool:
    return vm_state(dom.info()[0]) in ACTIVE_VM_STATES


def _redefine(
    conn: libvirt.virConnect, dom: libvirt.virDomain, change: Callable[[ET.Element], None]
) -> None:
    """A stopped VM: its definition with `change` applied to <devices>."""
    flags = libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE
    root = ET.fromstring(dom.XMLDesc(flags))
    devices = root.find("devices")
    if devices is None:
        devices = ET.SubElement(root, "devices")
    change(devices)
    conn.defineXML(ET.tostring(root, encoding="unicode"))


def _mine(devices: ET.Element, mac: str) -> ET.Element:
    for el in devices.iterfind("interface"):
        found = el.find("mac")
        if found is not None and found.get("address", "").lower() == mac.lower():
            return el
    raise LookupError(mac)


def add(uuid: str, spec: NicSpec) -> Op:
    def run(conn: libvirt.virConnect) -> str:
        dom = conn.lookupByUUIDString(uuid)
        xml = interface_xml(spec)
        if not _active(dom):
            _redefine(conn, dom, lambda devices: devices.append(ET.fromstring(xml)))
            return "added"
        dom.attachDeviceFlags(xml, _flags(dom))
        return "plugged"

    return run


def remove(uuid: str, mac: str, wait: float = 10.0) -> Op:
    def run(conn: libvirt.virConnect) -> str:
        dom = conn.lookupByUUIDString(uuid)
        if not _active(dom):
            _redefine(conn, dom, lambda devices: devices.remove(_mine(devices, mac)))
            return "removed"
        el = find_interface(dom.XMLDesc(0), mac)
        if el is None:
            raise LookupError(mac)
        dom.detachDeviceFlags(ET.tostring(el, encoding="unicode"), _flags(dom))
        # A live unplug completes when the guest releases the device (ACPI hot-unplug).
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if find_interface(dom.XMLDesc(0), mac) is None:
                return "unplugged"
            time.sleep(0.2)
        return "unplug requested; the guest has not released the device yet"

    return run


def set_link(uuid: str, mac: str, state: str) -> Op:
    def relink(el: ET.Element) -> None:
        link = el.find("link")
        if link is None:
            link = ET.SubElement(el, "link")
        link.set("state", state)

    def run(conn: libvirt.virConnect) -> str:
        dom = conn.lookupByUUIDString(uuid)
        if not _active(dom):
            _redefine(conn, dom, lambda devices: relink(_mine(devices, mac)))
            return f"link {state}"
        el = find_interface(dom.XMLDesc(0), mac)
        if el is None:
            raise LookupError(mac)
        relink(el)
        dom.updateDeviceFlags(ET.tostring(el, encoding="unicode"), _flags(dom))
        return f"link {state}"

    return run
