"""A real IPMI-over-LAN BMC per lab host: OpenIPMI's ipmi_sim on 127.0.0.1, a port each.

Its chassis control (ovtui/lab/chassis.py) is the host's power: "off" kills the host's libvirtd
and QEMUs by PID (the lab's `fail`), "on" starts the daemon again without its guests (`heal`),
and the power state it reports is whether the host's processes are alive. Without a chassis
control script, ipmi_sim answers power commands with "Invalid data field" (notes/LAB.md).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import zlib
from pathlib import Path

from ovtui.lab import procs
from ovtui.lab.paths import LabPaths
from ovtui.lab.state import HostState

IPMI_SIM = "/usr/bin/ipmi_sim"
PACKAGES = ("openipmi", "ipmitool", "fence-agents")
USER = "admin"
_PORT_BASE = 20000
_OVTUI_PARENT = Path(__file__).resolve().parents[2]  # so the chassis script finds this ovtui
_CHASSIS = Path(__file__).resolve().with_name("chassis.py")


def port_for(paths: LabPaths, index: int) -> int:
    """Distinct labs (an operator's and a test's) get distinct ports most of the time."""
    return _PORT_BASE + (zlib.crc32(str(paths.root).encode()) % 2000) * 10 + index


def bmc_dir(paths: LabPaths, host: str) -> Path:
    return paths.root / "bmc" / host


def password_file(paths: LabPaths) -> Path:
    return paths.root / "bmc" / "password"


def _password(paths: LabPaths) -> str:
    path = password_file(paths)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(8) + "\n")
    return path.read_text().strip()


def _lan_conf(host: str, port: int, chassis: Path, password: str) -> str:
    auths = "none md2 md5 straight"
    return (
        f'name "{host}"\n'
        "set_working_mc 0x20\n"
        "  startlan 1\n"
        f"    addr 127.0.0.1 {port}\n"
        "    priv_limit admin\n"
        + "".join(
            f"    allowed_auths_{p} {auths}\n" for p in ("callback", "user", "operator", "admin")
        )
        + "    guid a123456789abcdefa123456789abcdef\n"
        "  endlan\n"
        f'  chassis_control "{chassis} 0x20"\n'
        f'  user 1 false "" "unused" user 10 {auths}\n'
        f'  user 2 true "{USER}" "{password}" admin 10 {auths}\n'
    )


_EMU = (
    "mc_setbmc 0x20\n"
    "mc_add 0x20 0 no-device-sdrs 0x23 0x09 0x08 0x9f 0x1291 0xf02 persist_sdr\n"
    "mc_enable 0x20\n"
)


def prepare(paths: LabPaths, host: HostState) -> Path:
    """Write the BMC's files; returns its directory."""
    d = bmc_dir(paths, host.name)
    (d / "state").mkdir(parents=True, exist_ok=True)
    chassis = d / "chassis"
    chassis.write_text(
        "#!/bin/sh\n# ipmi_sim's chassis control for lab host "
        f"{host.name}: ovtui/lab/chassis.py\n"
        f'PYTHONPATH="{_OVTUI_PARENT}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" '
        f'"{_CHASSIS}" "{paths.root}" "{host.name}" "$@"\n',
        encoding="utf-8",
    )
    chassis.chmod(0o700)
    conf = _lan_conf(host.name, host.bmc_port or 0, chassis, _password(paths))
    (d / "lan.conf").write_text(conf, encoding="utf-8")
    (d / "lan.conf").chmod(0o600)
    (d / "sim.emu").write_text(_EMU, encoding="utf-8")
    return d


def start(paths: LabPaths, host: HostState, timeout: float = 30.0) -> None:
    """Start the host's ipmi_sim (if it does not run) and wait until it answers."""
    if host.bmc is not None and procs.alive(host.bmc):
        return
    if host.bmc_port is None:
        host.bmc_port = port_for(paths, host.index)
    d = prepare(paths, host)
    argv = [IPMI_SIM, "-c", str(d / "lan.conf"), "-f", str(d / "sim.emu"), "-s", str(d / "state")]
    with open(d / "ipmi_sim.log", "ab") as log:
        proc = subprocess.Popen(
            [*argv, "-n"], stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    _STARTED[proc.pid] = proc
    host.bmc = procs.ref_of(proc.pid)
    deadline = time.monotonic() + timeout
    while not answers(paths, host):
        if proc.poll() is not None:
            raise RuntimeError(f"ipmi_sim of {host.name} exited; see {d / 'ipmi_sim.log'}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"the BMC of {host.name} did not answer within {timeout:g} s")
        time.sleep(0.1)


def answers(paths: LabPaths, host: HostState) -> bool:
    argv = ["ipmitool", "-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", str(host.bmc_port)]
    # `mc info` is answered by ipmi_sim itself, without running the chassis control.
    argv += ["-U", USER, "-E", "-N", "1", "-R", "1", "mc", "info"]
    env = {**os.environ, "IPMI_PASSWORD": _password(paths)}
    return subprocess.run(argv, env=env, capture_output=True).returncode == 0


def stop(host: HostState) -> list[int]:
    """Kill the host's ipmi_sim by PID; returns the PIDs that survived."""
    if host.bmc is None:
        return []
    left = procs.kill_and_wait([host.bmc])
    proc = _STARTED.pop(host.bmc.pid, None)
    if proc is not None:
        proc.wait(timeout=1)
    if not left:
        host.bmc = None
    return [r.pid for r in left]


def freeze(host: HostState) -> bool:
    """SIGSTOP the BMC: it stops answering (an unreachable BMC) until thaw."""
    import signal

    return host.bmc is not None and procs.signal_ref(host.bmc, signal.SIGSTOP)


def thaw(host: HostState) -> bool:
    import signal

    return host.bmc is not None and procs.signal_ref(host.bmc, signal.SIGCONT)


_STARTED: dict[int, subprocess.Popen[bytes]] = {}
