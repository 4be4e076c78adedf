"""Logical networks in a real lab (root, slow): bridges per host joined by veths, guests with a
virtio NIC and a static address, pinging each other from their own consoles.

Guests vm1 (h1) and vm2 (h2) are on labnet1, vm3 (h1) and vm4 (h2) on labnet2, all in
10.77.0.0/24: only the separate bridges keep the two networks apart.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ovtui.lab import Lab, guest_net, guest_ping
from ovtui.lab import networks as labnets
from ovtui.lab.conn import quiet_libvirt
from ovtui.lab.guests import wait_log
from ovtui.model import HostState
from tests.conftest import API, LiveEngine
from tests.lab.conftest import NEEDS_ROOT
from tests.lab.labtools import migrate, running
from tests.lab.test_engine_on_lab import _engine_config, until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.skip(NEEDS_ROOT)
    quiet_libvirt()
    lab = Lab(root=Path(tempfile.mkdtemp(prefix="ovtui-lab-", dir="/tmp")))
    try:
        lab.up(hosts=2, guests=4, networks=True)
        yield lab
    finally:
        lab.down()


def test_guests_reach_their_own_network_across_hosts_and_nothing_else(lab: Lab) -> None:
    assert [lab.host_of(g) for g in ("vm1", "vm2", "vm3", "vm4")] == ["h1", "h2", "h1", "h2"]
    log = lab.serial_log("vm1").read_text()
    assert guest_net.NET_RE.search(log).groups() == ("10.77.0.1/24", labnets.guest_mac(1))  # type: ignore[union-attr]
    assert lab.ping("vm1", "10.77.0.2") == (3, 3)  # labnet1, h1 -> h2
    assert lab.ping("vm4", "10.77.0.3") == (3, 3)  # labnet2, h2 -> h1
    assert lab.ping("vm1", "10.77.0.3") == (3, 0)  # labnet1 -> labnet2: same subnet, no path
    assert lab.ping("vm2", "10.77.0.4") == (3, 0)


def test_a_guest_keeps_its_network_across_a_live_migration(lab: Lab) -> None:
    count, interval = 80, 0.1
    with lab.connect("h1") as h1, lab.connect("h2") as h2:
        dom = h1.lookupByName("vm1")
        offset = guest_ping.start_pingrun(dom, "10.77.0.2", count, interval)
        log = lab.serial_log("vm1")
        wait_log(log, lambda s: len(guest_net.replies(s)) >= 10, offset, timeout=30)
        migrate(h1, h2, "vm1", lab.migration_uris()["h2"])
        assert "vm1" in running(h2)
        text = wait_log(log, lambda s: "ovtui-pingdone" in s, offset, timeout=60)
        seqs = guest_net.replies(text)
        lost, longest = guest_net.gaps(seqs, count)
        assert seqs[:5] == [0, 1, 2, 3, 4]  # before the move
        assert max(seqs) >= count - 5  # and after it, from its new host
        assert lost < count // 2, (lost, longest)
        assert lab.ping("vm1", "10.77.0.2") == (3, 3)
        migrate(h2, h1, "vm1", lab.migration_uris()["h1"])  # as the module found it
        assert "vm1" in running(h1)


def test_nics_hot_plug_link_and_unplug_on_a_running_guest(lab: Lab) -> None:
    live = LiveEngine(_engine_config(lab), wait_hosts=False)
    try:
        live.run(live.engine.fleet.wait_connected(30), timeout=40)
        live.settle()
        with live.as_role("SuperUser") as c:

            def nics() -> list[dict[str, str]]:
                return c.get(f"{API}/vms/vm2").json()["nics"]

            assert [n["source"] for n in nics()] == ["labnet1"]
            r = c.post(f"{API}/vms/vm2/nics", json={"network": "labnet2", "model": "e1000"})
            assert r.status_code == 200, r.text
            mac = r.json()["mac"]
            assert mac == "56:6f:00:00:00:00"  # the pool's first
            assert r.json()["result"] == "plugged"
            added = next(n for n in nics() if n["mac"] == mac)
            # type "network" as defined; the live XML shows the bridge it resolved to
            assert (added["source"], added["model"]) == ("labnet2", "e1000")
            assert added["target"] and added["link"] == "up"
            r = c.post(f"{API}/vms/vm2/nics/{mac}/link", json={"state": "down"})
            assert r.status_code == 200, r.text
            assert next(n for n in nics() if n["mac"] == mac)["link"] == "down"
            r = c.delete(f"{API}/vms/vm2/nics/{mac}")
            assert r.status_code == 200, r.text
            until(lambda: all(n["mac"] != mac for n in nics()), 30, "NIC gone")
        actions = [(a["action"], a["result"]) for a in live.audit_records()]
        assert [a for a in actions if a[0].startswith("vm.nic")] == [
            ("vm.nic.add", "ok"),
            ("vm.nic.link", "ok"),
            ("vm.nic.remove", "ok"),
        ]
    finally:
        live.stop()


def test_a_required_bridge_down_makes_the_host_non_operational_and_empties_it(lab: Lab) -> None:
    live = LiveEngine(_engine_config(lab), wait_hosts=False)
    try:
        engine = live.engine
        live.run(engine.fleet.wait_connected(30), timeout=40)

        def host(name: str):  # type: ignore[no-untyped-def]
            return engine.snapshot().host(name)

        until(lambda: host("h1") and host("h1").state == HostState.UP, 30, "h1 up")
        nets = {n.name: n for n in host("h1").networks}
        assert nets["labnet1"].ok and nets["labnet1"].bridge == labnets.bridge_name(
            lab.root, 1, "labnet1"
        )
        began = time.monotonic()
        labnets.set_bridge(lab.root, 1, "labnet1", up=False)
        try:
            grace = engine.config.networking.missing_network_grace_seconds
            until(lambda: host("h1").state == HostState.NON_OPERATIONAL, grace + 30, "h1 unfit")
            assert time.monotonic() - began >= grace
            assert "labnet1" in host("h1").state_reason
            until(lambda: not engine.snapshot().vms_on("h1"), 120, "h1 emptied")
            with lab.connect("h1") as h1:
                assert running(h1) == set()
            assert {lab.host_of(g) for g in ("vm1", "vm3")} == {"h2"}
            assert lab.ping("vm1", "10.77.0.2") == (3, 3)  # still on its network, on h2
        finally:
            labnets.set_bridge(lab.root, 1, "labnet1", up=True)
        until(lambda: host("h1").networks[0].ok, 30, "labnet1 back on h1")
    finally:
        live.stop()
