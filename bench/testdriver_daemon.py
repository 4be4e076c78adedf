"""libvirt's test driver served by a libvirtd of its own, so the engine measured holds only itself.

With `test:///path` URIs the test driver runs inside the engine: every connection parses its node
file there and keeps every domain definition in the engine's heap (500 hosts x 40 VMs: ~6 s of
CPU and ~270 MiB, measured by opening the connections alone). Production hosts are remote
libvirtds; so the benchmarks serve the same node files from one libvirtd — a session daemon run
as `nobody`, so it uses none of the system daemon's paths (notes/LAB.md: two system daemons clash)
— and the engine reaches each host as `test+unix:///path?socket=…`, one connection and its own
driver state per host, over real RPC round trips as with qemu+ssh://.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

LIBVIRTD = "/usr/sbin/libvirtd"
CONF = "max_clients = 5000\nmax_anonymous_clients = 2000\nmax_workers = 20\n"


class TestDriverDaemon:
    def __init__(self, root: Path) -> None:
        self.root = root / "ld"
        self.socket = self.root / "run" / "libvirt" / "libvirt-sock"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> TestDriverDaemon:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if os.geteuid() != 0 or not Path(LIBVIRTD).exists() or not shutil.which("setpriv"):
            raise SystemExit("the test-driver daemon needs root, libvirtd and setpriv")
        for sub in ("run", "cfg/libvirt", "cache", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "cfg" / "libvirt" / "libvirtd.conf").write_text(CONF)
        self.root.parent.chmod(0o755)  # nobody walks to its files (mkdtemp made it 0700)
        for p in [self.root, *self.root.rglob("*")]:
            p.chmod(0o777 if p.is_dir() else 0o644)
        env = {
            "HOME": str(self.root / "home"),
            "XDG_RUNTIME_DIR": str(self.root / "run"),
            "XDG_CONFIG_HOME": str(self.root / "cfg"),
            "XDG_CACHE_HOME": str(self.root / "cache"),
            "PATH": "/usr/sbin:/usr/bin:/bin",
        }
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", LIBVIRTD]
        log = (self.root / "libvirtd.log").open("wb")
        self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while not self.socket.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"libvirtd did not start; see {self.root / 'libvirtd.log'}")
            time.sleep(0.05)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("daemon not started")
        return self.proc.pid

    def uri(self, node_file: Path) -> str:
        return f"test+unix://{quote(str(node_file.resolve()), safe='/')}?socket={self.socket}"

    def serve(self, config: Path) -> None:
        """Points every test:/// host of an ovtui.toml at this daemon (node files made readable)."""
        directory = config.parent
        for p in [directory, *directory.glob("*.xml")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        text = config.read_text()
        text = re.sub(
            r'uri = "test://(/[^"?]+)"',
            lambda m: f'uri = "{self.uri(Path(m.group(1)))}"',
            text,
        )
        # Opening a connection makes the daemon parse that host's file (~12 ms of CPU each, an
        # artefact of the test driver): on a loaded machine 500 at once outlast 10 s.
        text = text.replace(
            "libvirt_call_timeout_seconds = 10.0", "libvirt_call_timeout_seconds = 60.0"
        )
        config.write_text(text)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
