"""Reading a host's networks through libvirt (test driver): a bridge, or a libvirt network in
bridge mode that names a bridge of its own on this host."""

from __future__ import annotations

from pathlib import Path

import libvirt

from ovtui.fleet.bridges import read_networks
from ovtui.model import NetworkState

NODE = """<node>
  <cpu><mhz>2000</mhz><model>m</model><nodes>1</nodes><sockets>1</sockets><cores>1</cores>
  <threads>1</threads><active>1</active></cpu><memory>1048576</memory>
  <interface type='bridge' name='br-prod'><start mode='onboot'/><mtu size='9000'/><bridge/>
  </interface>
  <interface type='bridge' name='h1-lab'><start mode='onboot'/><bridge/></interface>
  <interface type='ethernet' name='eth0'><start mode='onboot'/></interface>
  <network><name>lab</name><forward mode='bridge'/><bridge name='h1-lab'/></network>
  <network><name>nat</name><forward mode='nat'/><bridge name='virbr9'/>
    <ip address='192.168.250.1' netmask='255.255.255.0'/></network>
</node>
"""


def test_bridges_libvirt_networks_and_what_is_not_a_bridge(tmp_path: Path) -> None:
    node = tmp_path / "h1.xml"
    node.write_text(NODE)
    conn = libvirt.open(f"test://{node}")
    try:
        wanted = (("prod", "br-prod"), ("lab", "br-lab"), ("eth", "eth0"), ("gone", "br-x"))
        got = read_networks(conn, (*wanted, ("nat", "br-prod")))
        assert (got["prod"].state, got["prod"].mtu, got["prod"].bridge) == (
            NetworkState.UP,
            9000,
            "br-prod",
        )
        assert (got["lab"].state, got["lab"].bridge) == (NetworkState.UP, "h1-lab")  # the network's
        assert got["eth"].state == NetworkState.MISSING and "not a bridge" in got["eth"].detail
        assert got["gone"].state == NetworkState.MISSING
        assert got["nat"].bridge == "br-prod"  # a NAT network is not a logical network's bridge
        conn.interfaceLookupByName("h1-lab").destroy()
        assert read_networks(conn, wanted[1:2])["lab"].state == NetworkState.DOWN
        conn.interfaceLookupByName("h1-lab").create()
        conn.networkLookupByName("lab").destroy()
        lab = read_networks(conn, wanted[1:2])["lab"]
        assert (
            lab.state == NetworkState.DOWN and lab.detail == "libvirt network 'lab' is not active"
        )
    finally:
        conn.close()
