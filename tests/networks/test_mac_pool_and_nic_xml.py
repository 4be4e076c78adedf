"""MAC allocation from a pool (never an address the fleet has) and the NIC XML ovtui writes."""

from __future__ import annotations

from dataclasses import replace

from ovtui.config.network_schema import parse_mac_range
from ovtui.fleet import mac_pool
from ovtui.fleet.nic_ops import NicSpec, find_interface, interface_xml
from ovtui.model import Nic, VmDevices
from tests.policies.helpers import host, snap, vm


def test_the_lowest_free_address_skips_every_one_in_use_and_none_when_exhausted() -> None:
    ranges = [parse_mac_range("56:6f:00:00:00:00-56:6f:00:00:00:02")]
    assert mac_pool.allocate(ranges, []) == "56:6f:00:00:00:00"
    assert (
        mac_pool.allocate(ranges, ["56:6f:00:00:00:00", "56:6f:00:00:00:01"]) == "56:6f:00:00:00:02"
    )
    assert (
        mac_pool.allocate(ranges, ["56:6f:00:00:00:00", "56:6f:00:00:00:01", "56:6f:00:00:00:02"])
        is None
    )


def test_addresses_in_use_and_clashes_include_vms_made_outside_ovtui() -> None:
    a = replace(vm("a", "h"), devices=VmDevices(nics=(Nic("56:6F:00:00:00:01"),)))
    b = replace(vm("b", "h"), devices=VmDevices(nics=(Nic("56:6f:00:00:00:01"),)))
    c = replace(vm("c", "h"), devices=VmDevices(nics=(Nic("52:54:00:00:00:09"),)))
    s = snap([host("h")], [a, b, c, vm("unread", "h")])
    assert mac_pool.macs_in_use(s)["56:6f:00:00:00:01"] == ["a", "b"]
    assert mac_pool.clashes(s) == {"56:6f:00:00:00:01": ["a", "b"]}
    assert mac_pool.unread(s) == ["unread"]


def test_nic_xml_names_the_libvirt_network_or_the_bridge_and_vlan_the_ovs_way() -> None:
    spec = NicSpec("56:6f:00:00:00:05", "prod", "br-prod", libvirt_network=False)
    xml = interface_xml(spec)
    assert xml == (
        '<interface type=\'bridge\'><mac address="56:6f:00:00:00:05"/><source bridge="br-prod"/>'
        '<model type="virtio"/><link state="up"/></interface>'
    )
    assert '<source network="prod"/>' in interface_xml(replace(spec, libvirt_network=True))
    tagged = interface_xml(replace(spec, vlan=42, mtu=9000))  # UNTESTED on a real link
    assert (
        "<virtualport type='openvswitch'/><vlan><tag id='42'/></vlan><mtu size='9000'/>" in tagged
    )
    dom = f"<domain><devices>{xml}</devices></domain>"
    assert find_interface(dom, "56:6F:00:00:00:05") is not None
    assert find_interface(dom, "56:6f:00:00:00:06") is None
