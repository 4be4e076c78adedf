"""PID 1 of one lab host: run as a script by `unshare` inside the host's new namespaces.

Standard library only (it runs with `python -I`). It gives the host its own view of the paths
libvirt compiles in, its own hostname, starts libvirtd in the foreground and reaps every orphan
(QEMU is daemonised by libvirtd and lands here). When libvirtd exits, this process exits, and the
kernel kills whatever is left in the PID namespace: a host goes down as a whole. SIGHUP is the
one exception, `systemctl restart libvirtd` for the lab (a soft fence): libvirtd is killed
(SIGKILL: a frozen one too) and started again; the QEMUs, children of this process, run on and
the new libvirtd finds them again.

argv[1] is a JSON file: {"hostname": str, "binds": [[src, dst], ...], "argv": [...], "log": str}
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys

MS_BIND = 4096
MS_REC = 16384


def bind(src: str, dst: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(src.encode(), dst.encode(), None, MS_BIND | MS_REC, None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"bind mount {src} -> {dst}: {os.strerror(err)}")


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    for src, dst in spec["binds"]:
        bind(src, dst)
    socket.sethostname(spec["hostname"])

    def start() -> subprocess.Popen[bytes]:
        with open(spec["log"], "ab") as log:
            return subprocess.Popen(spec["argv"], stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    daemon = start()
    restarting = False

    def forward(signum: int, _frame: object) -> None:
        daemon.send_signal(signal.SIGTERM)

    def restart(signum: int, _frame: object) -> None:
        nonlocal restarting
        restarting = True
        daemon.send_signal(signal.SIGKILL)

    # PID 1 ignores signals it has no handler for, even SIGTERM.
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGHUP, restart)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 1
        except InterruptedError:
            continue
        if pid == daemon.pid:
            if not restarting:
                return os.waitstatus_to_exitcode(status)
            restarting = False
            daemon.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
            daemon = start()


if __name__ == "__main__":
    sys.exit(main())
