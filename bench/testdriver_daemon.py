"""libvirt's test driver served by a libvirtd of its own, so the engine measured holds only itself.

With `test:///path` URIs the test driver runs inside the engine: every connection parses its node
file there and keeps every domain definition in the engine's heap (500 hosts x 40 VMs: ~6 s of
CPU and ~270 MiB, measured by opening the connections alone). Production hosts are remote
libvirtds; so the benchmarks serve the same node files from one libvirtd — a session daemon run
as `nobody`, so it uses none of the system daemon's paths (notes/LAB.md: two system daemons clash)
— and the engine reaches each host as `test+unix:///path?socket=…`, one connection and its own
driver state per host, over real RPC round trips as with qemu+ssh://.

A real fleet has one libvirtd per host; one daemon for every host is not linear: each call
costs it more the more clients it has open, idle or not (`bench/daemon_scaling.py`,
`bench/results/core_s26_daemon_*.json`: a getHostname 155 µs of its CPU at 25 clients, 540 µs
at 500; an XMLDesc 0.16 → 0.74 ms; opening a connection stays ~36 ms). So the hosts are served
`HOSTS_PER_DAEMON` to a libvirtd: at 25 a call costs within ~15% of a daemon's with one client
(at 50: ~1.5x), and 500 hosts take 20 daemons.
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
HOSTS_PER_DAEMON: int | None = 25  # None: one daemon for every host
CONF = "max_clients = 5000\nmax_anonymous_clients = 2000\nmax_workers = 20\n"


class Libvirtd:
    """One session libvirtd as `nobody` under `root`, serving test+unix:// on its own socket."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = self.root / "run" / "libvirt" / "libvirt-sock"
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        for sub in ("run", "cfg/libvirt", "cache", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "cfg" / "libvirt" / "libvirtd.conf").write_text(CONF)
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

    def wait_listening(self) -> None:
        deadline = time.monotonic() + 30
        while not self.socket.exists():
            if self.proc is None or self.proc.poll() is not None or time.monotonic() > deadline:
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


class TestDriverDaemon:
    """The test-driver hosts of a fleet, served `hosts_per_daemon` to a libvirtd (daemons
    started as hosts are handed out: `start` starts the first, `serve` or `uri` the others)."""

    def __init__(self, root: Path, hosts_per_daemon: int | None = HOSTS_PER_DAEMON) -> None:
        self.root = root / "ld"
        self.hosts_per_daemon = hosts_per_daemon
        self.daemons: list[Libvirtd] = []
        self._served: dict[Path, Libvirtd] = {}

    def __enter__(self) -> TestDriverDaemon:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if os.geteuid() != 0 or not Path(LIBVIRTD).exists() or not shutil.which("setpriv"):
            raise SystemExit("the test-driver daemon needs root, libvirtd and setpriv")
        self._ensure(1)

    def _ensure(self, count: int) -> None:
        """At least `count` daemons running (spawned together, then waited for)."""
        self.root.mkdir(parents=True, exist_ok=True)
        for p in (self.root, self.root.parent):
            p.chmod(0o755)  # nobody walks to its files (mkdtemp made the parent 0700)
        fresh = [Libvirtd(self.root / str(i)) for i in range(len(self.daemons), count)]
        self.daemons += fresh
        for d in fresh:
            d.spawn()
        for d in fresh:
            d.wait_listening()

    def stop(self) -> None:
        for d in self.daemons:
            d.stop()

    @property
    def pids(self) -> list[int]:
        return [d.pid for d in self.daemons]

    @property
    def pid(self) -> int:
        """The daemon's pid, when there is one daemon (with several: `pids`, `cpu_s()`)."""
        if len(self.daemons) != 1:
            raise RuntimeError(f"{len(self.daemons)} daemons: use pids or cpu_s()")
        return self.daemons[0].pid

    @property
    def socket(self) -> Path:
        return self.daemons[0].socket

    def cpu_s(self) -> float:
        """User + system CPU seconds of every daemon so far."""
        return sum(cpu_s(pid) for pid in self.pids)

    def _daemon_for(self, node_file: Path) -> Libvirtd:
        node_file = node_file.resolve()
        if node_file not in self._served:
            index = len(self._served) // (self.hosts_per_daemon or len(self._served) + 1)
            self._ensure(index + 1)
            self._served[node_file] = self.daemons[index]
        return self._served[node_file]

    def uri(self, node_file: Path) -> str:
        socket = self._daemon_for(node_file).socket
        return f"test+unix://{quote(str(node_file.resolve()), safe='/')}?socket={socket}"

    def serve(self, config: Path) -> None:
        """Points every test:/// host of an ovtui.toml at these daemons (node files made
        readable), `hosts_per_daemon` in the config's order to each."""
        directory = config.parent
        for p in [directory, *directory.glob("*.xml")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        text = config.read_text()
        nodes = [Path(m) for m in re.findall(r'uri = "test://(/[^"?]+)"', text)]
        if self.hosts_per_daemon:
            self._ensure(-(-(len(self._served) + len(nodes)) // self.hosts_per_daemon))
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
