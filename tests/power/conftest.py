"""A real IPMI-over-LAN BMC for driver tests: OpenIPMI's ipmi_sim on 127.0.0.1, whose chassis
control is a shell script keeping the power state in a file (no lab, no root needed)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PASSWORD = "s3cret-bmc"
_CHASSIS = """#!/bin/sh
d="$(dirname "$0")"
echo "$*" >> "$d/calls"
shift
op=$1; shift
case $op in
get) for p in "$@"; do [ "$p" = power ] && echo "power:$(cat "$d/power")"; done ;;
set) while [ -n "$1" ]; do [ "$1" = power ] && echo "$2" > "$d/power"; shift 2; done ;;
*) exit 1 ;;
esac
"""


@dataclass
class SimBmc:
    port: int
    dir: Path
    pid: int

    @property
    def power(self) -> str:
        return "on" if (self.dir / "power").read_text().strip() == "1" else "off"

    def set_power(self, on: bool) -> None:
        (self.dir / "power").write_text("1\n" if on else "0\n")

    def calls(self) -> list[str]:
        path = self.dir / "calls"
        return path.read_text().splitlines() if path.exists() else []


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sim_bmc(tmp_path: Path) -> Iterator[SimBmc]:
    for tool in ("ipmi_sim", "ipmitool", "fence_ipmilan"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            pytest.skip(f"{tool} is not installed (Debian openipmi, ipmitool, fence-agents)")
    port = _free_udp_port()
    d = tmp_path / "bmc"
    (d / "state").mkdir(parents=True)
    chassis = d / "chassis"
    chassis.write_text(_CHASSIS)
    chassis.chmod(0o700)
    (d / "power").write_text("1\n")
    auths = "none md2 md5 straight"
    (d / "lan.conf").write_text(
        'name "testbmc"\nset_working_mc 0x20\n  startlan 1\n'
        f"    addr 127.0.0.1 {port}\n    priv_limit admin\n"
        + "".join(
            f"    allowed_auths_{p} {auths}\n" for p in ("callback", "user", "operator", "admin")
        )
        + "    guid a123456789abcdefa123456789abcdef\n  endlan\n"
        f'  chassis_control "{chassis} 0x20"\n'
        f'  user 2 true "admin" "{PASSWORD}" admin 10 {auths}\n'
    )
    (d / "sim.emu").write_text(
        "mc_setbmc 0x20\n"
        "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nmc_enable 0x20\n"
    )
    argv = ["ipmi_sim", "-c", str(d / "lan.conf"), "-f", str(d / "sim.emu"), "-s", str(d / "state")]
    with open(d / "sim.log", "wb") as log:
        proc = subprocess.Popen([*argv, "-n"], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    env = {**os.environ, "IPMI_PASSWORD": PASSWORD}
    probe = ["ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", str(port)]
    probe += ["-U", "admin", "-E", "-N", "1", "-R", "1", "chassis", "power", "status"]
    deadline = time.monotonic() + 10
    while subprocess.run(probe, env=env, capture_output=True).returncode != 0:
        assert proc.poll() is None, (d / "sim.log").read_text()
        assert time.monotonic() < deadline, "ipmi_sim did not answer"
        time.sleep(0.1)
    (d / "calls").unlink(missing_ok=True)
    try:
        yield SimBmc(port, d, proc.pid)
    finally:
        os.kill(proc.pid, signal.SIGCONT)  # a test may have frozen it
        proc.kill()
        proc.wait(timeout=5)
