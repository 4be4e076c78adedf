"""A real two-host lab: inventory, load, live migration, graceful stop, host failure and hang."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import libvirt
import pytest

from ovtui.config import load_config
from ovtui.lab import Lab, guestinit
from ovtui.lab.conn import answers
from tests.lab.labtools import cpu_rates, migrate, names, running, wait_uptime_after

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).resolve().parents[2] / "appliance" / "ovtui.example.toml"


def test_inventory_matches_virsh(lab: Lab) -> None:
    report = lab.status()
    assert [h.status for h in report.hosts] == ["running", "running"]
    assert {g.name: g.host for g in report.guests} == {"vm1": "h1", "vm2": "h2", "vm3": "h1"}
    for host, uri in lab.uris().items():
        out = subprocess.run(
            ["virsh", "-c", uri, "list", "--all", "--name"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert set(out.split()) == {g.name for g in report.guests if g.host == host}
        conn = lab.connect(host)
        try:
            assert running(conn) == {g.name for g in report.guests if g.host == host}
            assert conn.getHostname() == host  # each host has its own UTS namespace
        finally:
            conn.close()


def test_second_up_reports_what_runs(lab: Lab) -> None:
    before = {h.name: h.pids for h in lab.status().hosts}
    report = lab.up(hosts=2, guests=3)
    assert {h.name: h.pids for h in report.hosts} == before
    assert len(report.guests) == 3


def test_config_follows_the_example(lab: Lab) -> None:
    loaded = load_config(lab.config_path)  # the engine's own validation
    assert [h.name for h in loaded.hosts] == ["h1", "h2"]
    cfg = tomllib.loads(lab.config_path.read_text())
    example = tomllib.loads(EXAMPLE.read_text())
    # Logical networks and MAC pools: only in a lab brought up with --networks.
    assert set(cfg) == set(example) - {"networks", "mac_pools", "networking"}
    for table in ("engine", "api", "exporter", "auth"):
        assert set(cfg[table]) <= set(example[table]) | {"socket_group", "tcp"}
    assert [d["name"] for d in cfg["datacenters"]] == ["lab"]
    [cluster] = cfg["clusters"]
    assert set(cluster) == set(example["clusters"][0])
    assert cluster["name"] == cluster["datacenter"] == "lab"
    conn = lab.connect("h1")
    try:
        assert f"<model>{cluster['cpu_model']}</model>" in conn.getCapabilities()
    finally:
        conn.close()
    assert {h["name"]: h["uri"] for h in cfg["hosts"]} == lab.uris()
    for h in cfg["hosts"]:
        assert h["cluster"] == "lab"
        assert h["load"] == "measured"
        assert h["migration_uri"] == "tcp://127.0.0.1"
        assert set(h["power"]) == set(example["hosts"][0]["power"])


def test_load_makes_a_guest_use_cpu(lab: Lab) -> None:
    conn = lab.connect("h1")
    try:
        lab.set_load("vm1", 1)
        assert lab.status().guests[0].load == 1
        time.sleep(0.5)
        rates = cpu_rates(conn, seconds=2.0)
    finally:
        lab.set_load("vm1", 0)
        conn.close()
    # About one core under TCG on an idle machine, less on a shared one: the busy guest is
    # told from the idle one by comparison, not by how much CPU this machine can spare.
    assert rates["vm1"] > 0.1, rates
    assert rates["vm1"] > 4 * rates["vm3"], rates


def test_live_migration_keeps_the_guest_running(lab: Lab) -> None:
    log = lab.serial_log("vm2")
    h1, h2 = lab.connect("h1"), lab.connect("h2")
    uris = lab.migration_uris()
    try:
        before = guestinit.uptimes(log.read_text())[-1]
        boots = guestinit.boots(log.read_text())
        migrate(h2, h1, "vm2", uris["h1"])
        assert "vm2" in running(h1)
        assert "vm2" not in names(h2)  # source clean: neither running nor defined
        assert lab.host_of("vm2") == "h1"
        after = wait_uptime_after(log, before + 1.0)
        text = log.read_text()
        assert guestinit.boots(text) == boots  # no reboot: the same guest kept running
        ups = guestinit.uptimes(text)
        assert all(b > a for a, b in itertools.pairwise(ups)), "uptime went backwards"
        assert after > before
    finally:
        if "vm2" not in running(h2):  # put it back for the other tests
            migrate(h1, h2, "vm2", uris["h2"])
        h1.close()
        h2.close()
    assert lab.host_of("vm2") == "h2"


def test_graceful_shutdown_and_start(lab: Lab) -> None:
    conn = lab.connect("h1")
    try:
        dom = conn.lookupByName("vm3")
        dom.shutdown()  # ACPI power button, handled by busybox acpid in the guest
        deadline = time.monotonic() + 20
        while dom.isActive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not dom.isActive()
        offset = lab.serial_log("vm3").stat().st_size
        dom.create()
        wait = lab.serial_log("vm3")
        deadline = time.monotonic() + 60
        while "ovtui-uptime" not in wait.read_text()[offset:] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert guestinit.uptimes(wait.read_text()[offset:])
    finally:
        conn.close()


def test_failed_host_stops_answering_and_heals(lab: Lab) -> None:
    uri = lab.uris()["h2"]
    pids = lab.status().host("h2").pids
    assert len(pids) >= 3  # init, libvirtd, QEMU of vm2
    lab.fail("h2")
    try:
        assert not answers(uri, timeout=2.0)
        with pytest.raises(libvirt.libvirtError):
            libvirt.open(uri)
        report = lab.status()
        assert report.host("h2").status == "failed"
        assert report.host("h2").pids == []
        assert "vm2" not in {g.name for g in report.guests}
        for pid in pids:
            assert not Path(f"/proc/{pid}/cmdline").exists() or _zombie(pid)
    finally:
        lab.heal("h2")
    assert _answers_again(uri)
    conn = lab.connect("h2")
    try:
        dom = conn.lookupByName("vm2")
        assert not dom.isActive()  # a power cut: persistent definition kept, guest off
        log = lab.serial_log("vm2")
        boots = guestinit.boots(log.read_text())
        dom.create()
        deadline = time.monotonic() + 60
        while guestinit.boots(log.read_text()) == boots and time.monotonic() < deadline:
            time.sleep(0.2)
        assert guestinit.boots(log.read_text()) == boots + 1
    finally:
        conn.close()


def test_hung_host_does_not_answer_until_thawed(lab: Lab) -> None:
    uri = lab.uris()["h1"]
    log = lab.serial_log("vm1")
    lab.fail("h1", hang=True)
    try:
        assert lab.status().host("h1").status == "hung"
        assert not answers(uri, timeout=2.0)  # returned: a hung daemon does not hang the caller
        frozen_at = guestinit.uptimes(log.read_text())[-1]
    finally:
        lab.heal("h1")
    assert _answers_again(uri)
    assert wait_uptime_after(log, frozen_at) > frozen_at  # its guests run on
    assert lab.status().host("h1").status == "running"


def _answers_again(uri: str, timeout: float = 60.0) -> bool:
    """A healed daemon answers within a generous deadline (a busy machine is slow to resume)."""
    deadline = time.monotonic() + timeout
    while not answers(uri, timeout=5.0):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat[stat.rindex(")") + 2] in "ZX"


def test_cli_works_from_another_process(lab: Lab) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "ovtui.lab", "--root", str(lab.root), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    status = json.loads(cli("status", "--json").stdout)
    assert {h["name"]: h["status"] for h in status["hosts"]} == {"h1": "running", "h2": "running"}
    assert cli("status", "h2").returncode == 0
    assert cli("fail", "h2").returncode == 0
    assert cli("status", "h2").returncode == 3  # the power "status" command of the config
    assert lab.status().host("h2").status == "failed"
    healed = cli("heal", "h2", "--start-guests")
    assert healed.returncode == 0, healed.stderr
    assert lab.host_of("vm2") == "h2"
    assert "vm2" in {g.name for g in lab.status().guests if g.state == "running"}
    wrong = cli("load", "vm9", "1")
    assert wrong.returncode == 1 and "vm9 is not running" in wrong.stderr
