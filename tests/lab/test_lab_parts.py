"""The lab's pure parts, without root: initramfs format, guest protocol, state, config."""

from __future__ import annotations

import gzip
import stat
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ovtui.config import load_config
from ovtui.lab import config, cpio, guestinit, guests
from ovtui.lab.host import new_host
from ovtui.lab.image import GuestImage
from ovtui.lab.paths import LabPaths
from ovtui.lab.procs import ProcRef
from ovtui.lab.state import HostState, LabState, load, save


def _parse_newc(data: bytes) -> list[tuple[str, int, bytes, tuple[int, int]]]:
    out: list[tuple[str, int, bytes, tuple[int, int]]] = []
    pos = 0
    while True:
        assert data[pos : pos + 6] == b"070701"
        f = [int(data[pos + 6 + 8 * i : pos + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = f[11], f[6]
        name = data[pos + 110 : pos + 110 + namesize - 1].decode()
        pos += 110 + namesize
        pos += -pos % 4
        body = data[pos : pos + filesize]
        pos += filesize
        pos += -pos % 4
        if name == "TRAILER!!!":
            return out
        out.append((name, f[1], body, (f[9], f[10])))


def test_initramfs_is_gzipped_newc() -> None:
    blob = cpio.initramfs(
        [
            cpio.directory("bin"),
            cpio.file("init", b"#!/bin/sh\n", 0o755),
            cpio.symlink("bin/sh", "busybox"),
            cpio.chardev("dev/console", 5, 1),
        ]
    )
    entries = {n: (m, b, r) for n, m, b, r in _parse_newc(gzip.decompress(blob))}
    assert stat.S_ISDIR(entries["bin"][0])
    assert entries["init"][1] == b"#!/bin/sh\n" and entries["init"][0] & 0o777 == 0o755
    assert stat.S_ISLNK(entries["bin/sh"][0]) and entries["bin/sh"][1] == b"busybox"
    assert stat.S_ISCHR(entries["dev/console"][0]) and entries["dev/console"][2] == (5, 1)
    assert cpio.initramfs([cpio.file("a", b"x")]) == cpio.initramfs([cpio.file("a", b"x")])


def test_guest_protocol_parsing() -> None:
    log = "ovtui-boot\novtui-load 0\novtui-uptime 1.50 load 0\novtui-load 2\n"
    assert guestinit.uptimes(log) == [1.5]
    assert guestinit.boots(log) == 1
    assert guestinit.last_load(log) == 2
    assert guestinit.last_load(log + "ovtui-uptime 2.51 load 3\n") == 3
    assert guestinit.load_command(3) == b"load 3\n"
    with pytest.raises(ValueError):
        guestinit.load_command(-1)


def test_domain_xml_is_a_small_tcg_guest(tmp_path: Path) -> None:
    image = GuestImage(kernel=tmp_path / "vmlinuz", initrd=tmp_path / "initrd.img")
    xml = guests.domain_xml(
        guests.GuestSpec("vm1", memory_mib=96, load=2), image, tmp_path / "vm1.log"
    )
    dom = ET.fromstring(xml)
    assert dom.get("type") == "qemu"  # TCG: this machine's nested /dev/kvm boots no Linux
    assert dom.findtext("memory") == "96" and dom.findtext("vcpu") == "1"
    assert "ovtui.load=2" in (dom.findtext("os/cmdline") or "")
    log = dom.find("devices/serial/log")
    assert log is not None and log.get("file") == str(tmp_path / "vm1.log")
    assert dom.find("devices/disk") is None and dom.find("devices/interface") is None


def test_state_round_trip(tmp_path: Path) -> None:
    paths = LabPaths(tmp_path)
    h = new_host(paths, 2)
    h.outer, h.init, h.pid_ns, h.status = ProcRef(10, 20), ProcRef(11, 21), 4026531836, "running"
    st = LabState(image={"kernel": "k"}, hosts={"h2": h}, guests={"vm1": 1})
    save(paths.state_file, st)
    back = load(paths.state_file)
    assert back.hosts["h2"] == h and back.guests == {"vm1": 1}
    assert load(tmp_path / "missing.json").hosts == {}


def test_hosts_get_distinct_identities(tmp_path: Path) -> None:
    paths = LabPaths(tmp_path)
    hosts = [new_host(paths, i) for i in (1, 2, 3)]
    assert len({h.host_uuid for h in hosts}) == 3
    ranges = [range(h.migration_ports[0], h.migration_ports[1] + 1) for h in hosts]
    assert not set(ranges[0]) & set(ranges[1]) and not set(ranges[1]) & set(ranges[2])
    assert hosts[0].uri == f"qemu+unix:///system?socket={tmp_path}/hosts/h1/sock/libvirt-sock"
    with pytest.raises(ValueError, match="too long"):
        LabPaths(Path("/tmp/" + "x" * 100)).check()


def test_config_loads_with_the_engine_schema(tmp_path: Path) -> None:
    paths = LabPaths(tmp_path)
    hosts: list[HostState] = [new_host(paths, i) for i in (1, 2)]
    text = config.render(tmp_path, hosts, "Broadwell", config.ConfigOptions())
    path = tmp_path / "ovtui.toml"
    config.write(path, text)
    cfg = load_config(path)
    assert [h.name for h in cfg.hosts] == ["h1", "h2"]
    assert cfg.clusters[0].cpu_model == "Broadwell"
    assert all(h.load == "measured" and h.migration_uri for h in cfg.hosts)
    raw = tomllib.loads(text)
    assert raw["hosts"][0]["power"]["status"][-2:] == ["status", "h1"]


def test_lab_config_passes_the_engine_preflight_with_its_admin_account(tmp_path: Path) -> None:
    """`ovtui engine` refuses a config whose local users file is missing: `lab up` writes one,
    once, with an admin whose password only admin.password (0600) holds."""
    from auth.local_users import load_local_users
    from auth.passwords import verify_password
    from ovtui.config.preflight import environment_errors

    hosts: list[HostState] = [new_host(LabPaths(tmp_path), 1)]
    config.write(
        tmp_path / "ovtui.toml", config.render(tmp_path, hosts, "qemu64", config.ConfigOptions())
    )
    cfg = load_config(tmp_path / "ovtui.toml")
    assert any("local_users_file" in str(f) for f in environment_errors(cfg))
    config.ensure_admin(tmp_path)
    assert not [f for f in environment_errors(cfg) if "local_users_file" in str(f)]
    secret = tmp_path / "admin.password"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    admin = load_local_users(tmp_path / "local-users.toml")["admin"]
    assert verify_password(secret.read_text().strip(), admin.password_hash)
    assert "SuperUser" in admin.roles
    before = (tmp_path / "local-users.toml").read_bytes()
    config.ensure_admin(tmp_path)  # a second `lab up` keeps the operator's file and password
    assert (tmp_path / "local-users.toml").read_bytes() == before


def test_the_guest_init_script_parses() -> None:
    """The guest's PID 1 is a shell script: a syntax error would only show as a guest that never
    answers (sh -n checks it without running it)."""
    import subprocess

    done = subprocess.run(["sh", "-n"], input=guestinit.INIT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
