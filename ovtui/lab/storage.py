"""The lab's storage: a shared directory, a loop device and a tgtd iSCSI target on loopback.

- shared: ROOT/storage/shared, a directory of this machine's filesystem. Every host's mount
  namespace sees it at the same path, as production hosts see an NFS/CephFS mount (the lab does
  not run NFS itself: this kernel has no NFS).
- block: a loop device over ROOT/storage/block.img, which libvirt formats (ext4) and mounts on
  the first host (an `fs` domain).
- san: `tgtd` (Debian `tgt`, a userspace target: this kernel has no SCSI) on 127.0.0.1 at a free
  non-standard port, with LUNS sparse LUNs; hosts reach it through libvirt's iscsi-direct pool.
`down` stops tgtd by PID and detaches the loop device (only if it is still backed by our file).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ovtui.lab import procs
from ovtui.lab.procs import ProcRef

MIB = 1 << 20
BLOCK_BYTES = 512 * MIB
LUNS = (256 * MIB, 256 * MIB, 1024 * MIB)  # sparse files: they cost nothing until written
IQN_PREFIX = "iqn.2026-12.lab.ovtui"
INITIATOR = f"{IQN_PREFIX}:engine"


@dataclass
class LabStorage:
    """What `up` made, kept in the lab's state file (lab.json, key "storage")."""

    dir: str
    loop: str = ""
    tgtd: ProcRef | None = None
    portal_port: int = 0
    control_port: int = 0
    target: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "dir": self.dir,
            "loop": self.loop,
            "portal_port": self.portal_port,
            "control_port": self.control_port,
            "target": self.target,
            "tgtd": self.tgtd.to_json() if self.tgtd else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabStorage:
        tgtd = ProcRef.from_json(data["tgtd"]) if data.get("tgtd") else None
        return cls(
            data["dir"],
            data.get("loop", ""),
            tgtd,
            int(data.get("portal_port", 0)),
            int(data.get("control_port", 0)),
            data.get("target", ""),
        )

    @property
    def root(self) -> Path:
        return Path(self.dir)

    @property
    def shared_dir(self) -> Path:
        return self.root / "shared"

    @property
    def block_mount(self) -> Path:
        return self.root / "block-mnt"

    @property
    def portal(self) -> str:
        return f"127.0.0.1:{self.portal_port}"

    def lun_file(self, n: int) -> Path:
        return self.root / "luns" / f"lun{n}.img"


def up(root: Path, current: LabStorage | None, lab_id: str) -> LabStorage:
    """Make what is missing; a second `up` keeps what runs."""
    st = current or LabStorage(str(root))
    st.shared_dir.mkdir(parents=True, exist_ok=True)
    st.block_mount.mkdir(parents=True, exist_ok=True)
    try:
        if not st.loop or _backing(st.loop) != str(st.root / "block.img"):
            image = st.root / "block.img"
            if not image.exists():
                with image.open("wb") as f:
                    f.truncate(BLOCK_BYTES)
            st.loop = _run("losetup", "--find", "--show", str(image)).strip()
        if st.tgtd is None or not procs.alive(st.tgtd):
            _start_tgtd(st, lab_id)
    except BaseException:
        down(st)  # nothing half-made is left behind: the state file does not know it yet
        raise
    return st


def down(st: LabStorage) -> list[str]:
    """Stops tgtd (by PID), detaches the loop device; returns what could not be undone."""
    problems = []
    if st.tgtd is not None and procs.kill_and_wait([st.tgtd]):
        problems.append(f"tgtd (PID {st.tgtd.pid}) survived SIGKILL")
    if st.loop and _backing(st.loop) == str(st.root / "block.img"):
        done = subprocess.run(["losetup", "--detach", st.loop], capture_output=True, text=True)
        if done.returncode != 0:
            problems.append(f"losetup --detach {st.loop}: {done.stderr.strip()}")
    return problems


def kill_target(st: LabStorage) -> int:
    """SIGKILL tgtd, as a storage failure would (tests: a copy to iSCSI fails mid-way)."""
    if st.tgtd is None or procs.kill_and_wait([st.tgtd]):
        raise RuntimeError("tgtd is not running or survived SIGKILL")
    return st.tgtd.pid


def _start_tgtd(st: LabStorage, lab_id: str) -> None:
    (st.root / "luns").mkdir(exist_ok=True)
    for n, size in enumerate(LUNS, start=1):
        lun = st.lun_file(n)
        if not lun.exists():
            with lun.open("wb") as f:
                f.truncate(size)
    st.portal_port = _free_port()
    st.control_port = _free_control_port()
    st.target = f"{IQN_PREFIX}:" + (re.sub(r"[^a-z0-9.-]+", "-", lab_id.lower()) or "lab")
    with open(st.root / "tgtd.log", "ab") as log:
        proc = subprocess.Popen(
            ["tgtd", "-f", "-C", str(st.control_port), "--iscsi", f"portal={st.portal}"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    _STARTED[proc.pid] = proc
    st.tgtd = procs.ref_of(proc.pid) or ProcRef(proc.pid, 0)
    deadline = time.monotonic() + 10
    while not _listening(st.portal_port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"tgtd did not start; see {st.root / 'tgtd.log'}")
        time.sleep(0.05)
    adm = ["tgtadm", "-C", str(st.control_port), "--lld", "iscsi"]
    _run(*adm, "--op", "new", "--mode", "target", "--tid", "1", "-T", st.target)
    for n in range(1, len(LUNS) + 1):
        _run(
            *adm,
            "--op",
            "new",
            "--mode",
            "logicalunit",
            "--tid",
            "1",
            "--lun",
            str(n),
            "-b",
            str(st.lun_file(n)),
        )
    _run(*adm, "--op", "bind", "--mode", "target", "--tid", "1", "-I", "ALL")


# Popen objects of the tgtd this process started, kept so that it is reaped, not leaked.
_STARTED: dict[int, subprocess.Popen[bytes]] = {}


def _run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.stdout}")
    return done.stdout


def _backing(loop: str) -> str:
    try:
        return Path(f"/sys/block/{Path(loop).name}/loop/backing_file").read_text().strip()
    except OSError:
        return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _free_control_port() -> int:
    # tgtd's management channel is a Unix socket named after the port; pick one nobody uses.
    for port in range(2000 + os.getpid() % 20000, 60000):
        if not Path(f"/var/run/tgtd/socket.{port}").exists():
            return port
    raise RuntimeError("no free tgtd control port")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def domains_toml(st: LabStorage, datacenter: str, first_host: str) -> list[str]:
    """The lab's [[storage_domains]] for its ovtui config."""
    domains: list[dict[str, str | list[str]]] = [
        {"name": "shared", "type": "shared_dir", "path": str(st.shared_dir)},
        {
            "name": "block",
            "type": "fs",
            "hosts": [first_host],
            "path": str(st.block_mount),
            "device": st.loop,
            "filesystem": "ext4",
        },
        {
            "name": "san",
            "type": "iscsi",
            "portal": st.portal,
            "target": st.target,
            "initiator": INITIATOR,
        },
    ]
    lines = []
    for d in domains:
        lines += ["", "[[storage_domains]]", f"datacenter = {json.dumps(datacenter)}"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in d.items()]
    return lines
