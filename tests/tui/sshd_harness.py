"""A real OpenSSH server on a loopback port, with the shipped snippet, for the dashboard e2e test.

Everything is started here as a child process by PID and undone afterwards: a group and a user
(only if this harness created them), a host key, a client key, sshd, and a private tmux server.
"""

from __future__ import annotations

import grp
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
SNIPPET = Path(__file__).parents[2] / "appliance" / "sshd" / "ovtui-dashboard.conf"
GROUP = "ovtui-operators"
SHIPPED_COMMAND = "/usr/local/bin/ovtui"
SHIPPED_SOCKET = "/run/ovtui/api.sock"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, text=True)


@contextmanager
def operators_group() -> Iterator[str]:
    try:
        grp.getgrnam(GROUP)
        created = False
    except KeyError:
        run("groupadd", GROUP)
        created = True
    try:
        yield GROUP
    finally:
        if created:
            subprocess.run(["groupdel", GROUP], check=False, capture_output=True)


@contextmanager
def ssh_user() -> Iterator[str]:
    name = f"ovte2e{os.getpid() % 100000}"
    run("useradd", "-M", "-N", "-g", GROUP, "-s", "/bin/sh", "-d", "/nonexistent", name)
    try:
        run("usermod", "-p", "*", name)  # not locked (sshd refuses "!"), no password either
        yield name
    finally:
        subprocess.run(["userdel", "-f", name], check=False, capture_output=True)


def _python_for(user: str) -> str:
    """An interpreter the test user may run: ours, or the system one of the same version."""
    ours = os.path.realpath(sys.executable)
    probe = subprocess.run(
        ["su", user, "-s", "/bin/sh", "-c", f"{ours} -c pass"], check=False, capture_output=True
    )
    if probe.returncode == 0:
        return ours
    # Ours lives under /root (0700) here; the same minor version reads our site-packages.
    system = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    assert Path(system).exists(), f"no interpreter that {user} may run ({ours}, {system})"
    return system


def write_launcher(directory: Path, user: str) -> Path:
    """`ovtui` as installed, for the test user: this checkout's code on a usable interpreter."""
    launcher = directory / "ovtui"
    site_packages = sysconfig.get_paths()["purelib"]
    launcher.write_text(
        f"#!{_python_for(user)}\nimport site, sys\nsite.addsitedir({site_packages!r})\n"
        "from ovtui.cli.main import main\nsys.exit(main())\n"
    )
    launcher.chmod(0o755)
    return launcher


def snippet_for(launcher: Path, engine_socket: Path) -> str:
    """The shipped snippet with only the install paths changed (and both must be there)."""
    text = SNIPPET.read_text()
    assert text.count(SHIPPED_COMMAND) == 1 and text.count(SHIPPED_SOCKET) == 1, SNIPPET
    return text.replace(SHIPPED_COMMAND, str(launcher)).replace(SHIPPED_SOCKET, str(engine_socket))


@dataclass
class Sshd:
    port: int
    key: Path  # the client's private key
    log: Path
    proc: subprocess.Popen[bytes]


@contextmanager
def sshd(user: str, engine_socket: Path) -> Iterator[Sshd]:
    root = Path(tempfile.mkdtemp(prefix="ovt-sshd-"))
    root.chmod(0o755)  # the user's session reads the launcher and authorized_keys here
    made_privsep = not Path("/run/sshd").exists()
    if made_privsep:
        Path("/run/sshd").mkdir(mode=0o755)
    proc: subprocess.Popen[bytes] | None = None
    try:
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "host_key"))
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "client_key"))
        keys = root / "authorized_keys"
        shutil.copy(root / "client_key.pub", keys)
        keys.chmod(0o644)
        (root / "ovtui-dashboard.conf").write_text(
            snippet_for(write_launcher(root, user), engine_socket)
        )
        port = free_port()
        config = root / "sshd_config"
        config.write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {root / 'host_key'}\n"
            f"PidFile {root / 'sshd.pid'}\nAuthorizedKeysFile {keys}\nStrictModes no\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
            f"PermitRootLogin no\nAllowUsers {user}\nLogLevel VERBOSE\n"
            f"Include {root / 'ovtui-dashboard.conf'}\n"
        )
        log = root / "sshd.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT
            )
        _wait_listening(port, proc, log)
        yield Sshd(port, root / "client_key", log, proc)
    finally:
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        if made_privsep:
            with suppress(OSError):
                Path("/run/sshd").rmdir()
        shutil.rmtree(root, ignore_errors=True)


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60  # generous: a shared, busy machine
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"sshd exited:\n{log.read_text()}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"sshd did not listen on 127.0.0.1:{port}:\n{log.read_text()}")


class Tmux:
    """A private tmux server (own socket name), one window: a real terminal to read and type in."""

    def __init__(self, width: int = 100, height: int = 30) -> None:
        self.name = f"ovt-e2e-{os.getpid()}"
        self.size = (width, height)

    def tmux(self, *args: str) -> str:
        cmd = ["tmux", "-L", self.name, "-f", "/dev/null", *args]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout

    def start(self, command: str) -> None:
        w, h = self.size
        self.tmux("new-session", "-d", "-s", "e2e", "-x", str(w), "-y", str(h), command)
        self.tmux("set-option", "-t", "e2e", "remain-on-exit", "on")  # keep the last screen

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "e2e", *(["-l"] if literal else []), *keys)

    def type(self, text: str) -> None:
        self.keys(text, literal=True)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "e2e")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if text in shown:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on screen after {timeout} s:\n{shown}")
            time.sleep(0.1)

    def dead(self) -> bool:
        return self.tmux("display-message", "-p", "-t", "e2e", "#{pane_dead}").strip() == "1"

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.name, "kill-server"], check=False, capture_output=True)
