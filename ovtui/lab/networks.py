"""The lab's logical networks: a Linux bridge per network per host, the hosts joined by veths.

The lab's hosts share this machine's network namespace (they talk over loopback and Unix
sockets), so one bridge name cannot exist once per host. Each host gets its own bridge per
network (`ob<tag><host>n<net>`, the tag unique to the lab's directory, so that two labs on one
machine never meet), and each host's libvirtd a libvirt network of the logical network's name in
`bridge` forward mode on that bridge: a guest's `<interface type='network'>` then names the
logical network, which every host has, and it migrates as it is. Neighbouring hosts' bridges are
joined by a veth pair per network, in a chain (no loops: no STP needed). Nothing is connected to
a physical interface and no address is set on this machine: guest traffic stays on the bridges.

Every guest gets 10.77.0.<its number>/24 whatever its network, so guests on different networks
share a subnet and only the separate bridges keep them apart: isolation is shown at layer 2.
Opt-in (`ovtui lab up --networks`); a marker file in the lab directory says the lab has them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
from pathlib import Path
from typing import Any

import libvirt

from ovtui.lab import config as labconfig

NETWORKS = ("labnet1", "labnet2")  # the first is required in the lab's cluster, the second optional
MARKER = "networks.json"
SUBNET = "10.77.0"


def enabled(root: Path) -> bool:
    return (root / MARKER).exists()


def tag(root: Path) -> str:
    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:4]


def bridge_name(root: Path, host_index: int, network: str) -> str:
    return f"ob{tag(root)}{host_index}n{NETWORKS.index(network) + 1}"


def _veths(root: Path, a: int, b: int, network: str) -> tuple[str, str]:
    k = NETWORKS.index(network) + 1
    return f"ov{tag(root)}{a}x{b}n{k}", f"ov{tag(root)}{b}x{a}n{k}"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


def _exists(dev: str) -> bool:
    return Path("/sys/class/net", dev).exists()


def create(root: Path, host_indexes: list[int]) -> None:
    """Bridges and veths for these hosts (idempotent: what exists is left as it is)."""
    (root / MARKER).write_text(json.dumps({"tag": tag(root), "networks": NETWORKS}))
    hosts = sorted(host_indexes)
    for net in NETWORKS:
        for i in hosts:
            br = bridge_name(root, i, net)
            if not _exists(br):
                _ip("link", "add", br, "type", "bridge", "stp_state", "0", "forward_delay", "0")
            _ip("link", "set", br, "up")
        # A chain h1 - h2 - h3 ...; a lone host gets a loose veth so that its bridge has a
        # working port (a bridge without one is operationally down, and so would be the host).
        pairs = list(itertools.pairwise(hosts)) or [(hosts[0], 0)]
        for a, b in pairs:
            left, right = _veths(root, a, b, net)
            if not _exists(left):
                _ip("link", "add", left, "type", "veth", "peer", "name", right)
            _ip("link", "set", left, "master", bridge_name(root, a, net), "up")
            if b:
                _ip("link", "set", right, "master", bridge_name(root, b, net), "up")
            else:
                _ip("link", "set", right, "up")


def remove(root: Path) -> None:
    """Deletes every bridge and veth of this lab (by its tag); deleting one end of a veth
    deletes both."""
    prefix = (f"ob{tag(root)}", f"ov{tag(root)}")
    for dev in sorted(Path("/sys/class/net").iterdir()):
        if dev.name.startswith(prefix) and _exists(dev.name):
            _ip("link", "del", dev.name, check=False)
    (root / MARKER).unlink(missing_ok=True)


def set_bridge(root: Path, host_index: int, network: str, up: bool) -> None:
    """Takes a host's bridge of `network` down or brings it back (tests, demonstrations)."""
    _ip("link", "set", bridge_name(root, host_index, network), "up" if up else "down")


def define(conn: Any, root: Path, host_index: int) -> None:
    """The host's libvirt networks, one per logical network, on its own bridges (autostart)."""
    for net in NETWORKS:
        xml = (
            f"<network><name>{net}</name><forward mode='bridge'/>"
            f"<bridge name='{bridge_name(root, host_index, net)}'/></network>"
        )
        try:
            found = conn.networkLookupByName(net)
        except libvirt.libvirtError:
            found = conn.networkDefineXML(xml)
        if not found.isActive():
            found.create()
        found.setAutostart(1)


def guest_network(index: int) -> str:
    """Guests 1 and 2 on the first network, 3 and 4 on the second, and so on round."""
    return NETWORKS[((index - 1) // 2) % len(NETWORKS)]


def guest_address(index: int) -> str:
    return f"{SUBNET}.{index}"


def guest_mac(index: int) -> str:
    return f"52:54:00:77:00:{index:02x}"


def interface_xml(index: int) -> str:
    return (
        f"<interface type='network'><mac address='{guest_mac(index)}'/>"
        f"<source network='{guest_network(index)}'/><model type='virtio'/></interface>"
    )


def cmdline(index: int) -> str:
    return f" ovtui.ip={guest_address(index)}/24"


def config_toml() -> str:
    """The lab's networks for its ovtui.toml: the bridge key names no bridge of the lab's (each
    host's libvirt network of that name says which of its bridges it is)."""
    out = []
    for i, net in enumerate(NETWORKS):
        kind = "required" if i == 0 else "optional"
        out += [
            "",
            "[[networks]]",
            f'name = "{net}"',
            f'datacenter = "{labconfig.DATACENTER}"',
            f'bridge = "{net}"',
            f'clusters = {{ {labconfig.CLUSTER} = "{kind}" }}',
        ]
    return "\n".join([*out, "", "[networking]", "missing_network_grace_seconds = 10.0", ""])
