"""One lab host: a libvirtd in its own PID, mount and UTS namespaces, reached on a unix socket.

Why these namespaces (see shared/notes/LAB.md): libvirtd compiles in its paths, so each host gets
/etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt bind-mounted
from its own directory; its own hostname and host_uuid so that migration sees two hosts; and a PID
namespace whose init reaps QEMU and takes every process of the host with it when it dies, which
is what `fail` and `down` rely on. The network stays the machine's loopback: each host has its own
migration port range, and the unix socket lives outside the bind-mounted paths so that clients
(and peer hosts, for peer-to-peer migration) reach it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
import zlib
from pathlib import Path

from ovtui.lab import conn, hostinit, procs
from ovtui.lab.paths import LabPaths
from ovtui.lab.state import HostState

LIBVIRTD = "/usr/sbin/libvirtd"
# per-host subdirectory -> the path libvirtd uses inside the host's mount namespace
LIBVIRT_DIRS = {
    "etc": "/etc/libvirt",
    "run": "/run/libvirt",
    "lib": "/var/lib/libvirt",
    "log": "/var/log/libvirt",
    "cache": "/var/cache/libvirt",
}
MAX_HOSTS = 10
_PORTS_PER_HOST = 10


def host_name(index: int) -> str:
    return f"h{index}"


def new_host(paths: LabPaths, index: int) -> HostState:
    if not 1 <= index <= MAX_HOSTS:
        raise ValueError(f"a lab has 1 to {MAX_HOSTS} hosts, not {index}")
    name = host_name(index)
    # Distinct labs (an operator's and a test's) get distinct port blocks most of the time.
    base = 49152 + (zlib.crc32(str(paths.root).encode()) % 120) * 100 + index * _PORTS_PER_HOST
    return HostState(
        name=name,
        index=index,
        host_uuid=str(uuid.uuid4()),
        migration_ports=(base, base + _PORTS_PER_HOST - 1),
        uri=f"qemu+unix:///system?socket={paths.socket(name)}",
        migration_uri="tcp://127.0.0.1",
    )


def _libvirtd_conf(paths: LabPaths, host: HostState) -> str:
    return (
        f'unix_sock_dir = "{paths.socket_dir(host.name)}"\n'
        # No polkit on the appliance's lab: root's unix socket is the only door.
        'auth_unix_ro = "none"\n'
        'auth_unix_rw = "none"\n'
        f'host_uuid = "{host.host_uuid}"\n'
        'log_outputs = "3:stderr"\n'
    )


def _qemu_conf(host: HostState) -> str:
    lo, hi = host.migration_ports
    return (
        'user = "root"\n'
        'group = "root"\n'
        'security_driver = "none"\n'
        "dynamic_ownership = 0\n"
        "remember_owner = 0\n"
        # No virtlogd: QEMU writes its own log and the guests' serial logs.
        'stdio_handler = "file"\n'
        # Cgroups would put the VMs of every host on one cgroup path and mix their statistics;
        # libvirt then reads CPU time from /proc instead.
        "cgroup_controllers = [ ]\n"
        "namespaces = [ ]\n"
        f"migration_port_min = {lo}\n"
        f"migration_port_max = {hi}\n"
    )


def write_hosts_file(paths: LabPaths, names: list[str]) -> None:
    """Every lab host name resolves to loopback, so migration works even without a URI."""
    paths.hosts_file.write_text(
        # One line per name: the first name of a line is the canonical name of all on it.
        "127.0.0.1\tlocalhost\n::1\tlocalhost\n"
        + "".join(f"127.0.0.1\t{name}\n" for name in sorted(names)),
        encoding="utf-8",
    )


def prepare(paths: LabPaths, host: HostState) -> None:
    """Write the host's configuration and give it a fresh /run, like a reboot would."""
    hdir = paths.host_dir(host.name)
    for sub in LIBVIRT_DIRS:
        (hdir / sub).mkdir(parents=True, exist_ok=True)
    shutil.rmtree(hdir / "run")
    (hdir / "run").mkdir()
    sock = paths.socket_dir(host.name)
    shutil.rmtree(sock, ignore_errors=True)
    sock.mkdir(parents=True)
    (hdir / "etc" / "libvirtd.conf").write_text(_libvirtd_conf(paths, host), encoding="utf-8")
    (hdir / "etc" / "qemu.conf").write_text(_qemu_conf(host), encoding="utf-8")
    binds = [[str(hdir / sub), dst] for sub, dst in LIBVIRT_DIRS.items()]
    binds.append([str(paths.hosts_file), "/etc/hosts"])
    spec = {
        "hostname": host.name,
        "binds": binds,
        "argv": [LIBVIRTD, "--pid-file", "/run/libvirt/libvirtd.pid"],
        "log": str(hdir / "libvirtd.log"),
    }
    (hdir / "init.json").write_text(json.dumps(spec, indent=2), encoding="utf-8")


def _child_of(pid: int, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except FileNotFoundError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.01)
    raise RuntimeError(f"unshare (PID {pid}) did not start the host's init; see its host.log")


def start(paths: LabPaths, host: HostState) -> None:
    """Start the host's init and libvirtd; fills in the PIDs and namespace of host."""
    prepare(paths, host)
    hdir = paths.host_dir(host.name)
    argv = [
        "unshare",
        "--pid",
        "--fork",
        "--kill-child",
        "--mount-proc",
        "--uts",
        "--propagation",
        "private",
        sys.executable,
        "-I",
        hostinit.__file__,
        str(hdir / "init.json"),
    ]
    with open(hdir / "host.log", "ab") as log:
        # Own session: the lab outlives the command that started it and ignores its Ctrl-C.
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    _STARTED[proc.pid] = proc
    outer = procs.ref_of(proc.pid)
    init_pid = _child_of(proc.pid)
    init = procs.ref_of(init_pid)
    pid_ns = procs.ns_inode(init_pid, "pid")
    if (
        outer is None
        or init is None
        or pid_ns is None
        or pid_ns == procs.ns_inode(os.getpid(), "pid")
    ):
        procs.kill_and_wait([r for r in (init, outer) if r is not None])
        raise RuntimeError(f"lab host {host.name} died at start; see {hdir / 'host.log'}")
    host.outer, host.init, host.pid_ns, host.status = outer, init, pid_ns, "running"


# Popen objects of hosts this process started, kept so that they are reaped, not leaked.
_STARTED: dict[int, subprocess.Popen[bytes]] = {}


def members(host: HostState) -> list[procs.ProcRef]:
    """Every live process of the host; empty once its init is gone.

    A namespace's inode number is reused after the namespace dies, so it names this host's
    processes only while the host's init (checked by start time) is alive.
    """
    if host.init is None or host.pid_ns is None or not procs.alive(host.init):
        return []
    if procs.ns_inode(host.init.pid, "pid") != host.pid_ns:
        return []
    found = (procs.ref_of(pid) for pid in procs.pids_in_ns("pid", host.pid_ns))
    return [r for r in found if r is not None]


def _argv(ref: procs.ProcRef) -> list[str]:
    try:
        raw = Path(f"/proc/{ref.pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def daemon(host: HostState) -> procs.ProcRef | None:
    """The host's libvirtd (PID as seen from outside), or None if it is not running."""
    return next((r for r in members(host) if _argv(r)[:1] == [LIBVIRTD]), None)


def qemus(host: HostState, guest: str | None = None) -> list[procs.ProcRef]:
    """The host's QEMU processes (of one guest: libvirt names it `-name guest=NAME,...`)."""
    found = []
    for ref in members(host):
        argv = _argv(ref)
        if not argv or not argv[0].endswith(("/qemu-system-x86_64", "/qemu-kvm")):
            continue
        names = [a for a in argv if a.startswith("guest=")]
        if guest is None or any(n.split(",")[0] == f"guest={guest}" for n in names):
            found.append(ref)
    return found


def kill(host: HostState, timeout: float = 15.0) -> list[int]:
    """Kill every process of the host at once (a power cut); returns PIDs that survived.

    The kernel kills a PID namespace's processes when its init dies and the init's exit waits
    for them, so waiting for the init waits for the whole host.
    """
    everyone = members(host)
    thaw(host)  # a stopped process only dies once it runs again
    refs = [r for r in (host.init, host.outer) if r is not None] + everyone
    left = procs.kill_and_wait(refs, timeout)
    for ref in refs:
        proc = _STARTED.pop(ref.pid, None)
        if proc is not None:
            proc.wait(timeout=1)
    return [r.pid for r in left]


def wait_ready(paths: LabPaths, host: HostState, timeout: float = 30.0) -> None:
    """Wait until the host's libvirtd answers; fail early if the host died on the way."""
    deadline = time.monotonic() + timeout
    while not conn.answers(host.uri, timeout=2.0):
        if live_status(host) != "running":
            raise RuntimeError(
                f"lab host {host.name} stopped while starting; see host.log and libvirtd.log "
                f"in {paths.host_dir(host.name)}"
            )
        if time.monotonic() >= deadline:
            raise TimeoutError(f"lab host {host.name} did not answer within {timeout:.0f} s")
        time.sleep(0.1)


def freeze(host: HostState) -> None:
    """SIGSTOP every process of the host: it keeps its sockets but answers nothing."""
    for ref in members(host):
        procs.signal_ref(ref, signal.SIGSTOP)


def thaw(host: HostState) -> None:
    for ref in members(host):
        procs.signal_ref(ref, signal.SIGCONT)


def live_status(host: HostState) -> str:
    """running | hung | failed | stopped | dead (died without `fail` or `down`)."""
    if host.init is not None and procs.alive(host.init):
        return "hung" if procs.stopped(host.init) else "running"
    if host.status in ("failed", "stopped"):
        return host.status
    return "dead"
