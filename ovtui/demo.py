"""`ovtui demo`: an engine on the embedded test-driver fleet plus the dashboard, one command.

The engine runs as its own process (exactly as in production) and the dashboard talks to it over
the API socket. Load on this fleet is SYNTHETIC, and every screen that shows it says so.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from auth.local_users import LocalUser, write_local_users
from auth.passwords import hash_password
from ovtui.client import ApiError, Client
from ovtui.testdriver_fleet import demo_spec, write_fleet

DEMO_PASSWORD = "demo"
DEMO_USERS = {
    "admin": "SuperUser",
    "clusteradmin": "ClusterAdmin",
    "poweruser": "PowerUser",
    "operator": "Operator",
    "viewer": "ReadOnly",
    "auditor": "Auditor",
}
# Roles come from grants, as they would for directory users; clusteradmin's stops at prod-a.
DEMO_SCOPES = {"clusteradmin": ("cluster", "prod-a")}


def demo_grants() -> str:
    out = []
    for name, role in DEMO_USERS.items():
        scope, obj = DEMO_SCOPES.get(name, ("system", ""))
        where = f'\nobject = "{obj}"' if obj else ""
        out.append(f'[[auth.grants]]\nuser = "{name}"\nrole = "{role}"\nscope = "{scope}"{where}\n')
    return "\n".join(out)


def demo_storage() -> str:
    """One shared domain per data center (test-driver pools: no files are made)."""
    out = []
    for dc in demo_spec().datacenters:
        out.append(
            f'[[storage_domains]]\nname = "{dc.name}-shared"\ndatacenter = "{dc.name}"\n'
            f'type = "shared_dir"\npath = "/srv/ovtui/{dc.name}-shared"\n'
        )
    return "\n".join(out)


def make_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1/localhost signed by it, made with
    openssl: (ca.pem, server.crt, server.key). The demo and the tests point oVirt tooling at
    ca.pem, exactly as at a real engine's CA."""
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key, csr = directory / "api.crt", directory / "api.key", directory / "api.csr"
    ext = directory / "api.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj",
            "/CN=ovtui demo CA", "-keyout", str(ca_key), "-out", str(ca))  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", str(key), "-out", str(csr))  # fmt: skip
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", "30", "-extfile", str(ext), "-out", str(cert))  # fmt: skip
    for path in (ca_key, key):
        path.chmod(0o600)
    return ca, cert, key


def ovirt_api_keys(cert: Path, key: Path, listen: str = "127.0.0.1:0") -> str:
    """The [api] keys of a loopback TLS listener (the oVirt SDK cannot use the Unix socket)."""
    return f'tcp = "{listen}"\ntls_cert = "{cert.resolve()}"\ntls_key = "{key.resolve()}"\n'


OVIRT_SECTION = "\n[api.ovirt]\nenabled = true\n"


def prepare_demo(directory: Path, ovirt_port: int | None = None) -> Path:
    """Writes the fleet, the engine config and demo accounts (and, given a port, the oVirt API's
    TLS listener and CA); returns the config path."""
    directory.mkdir(parents=True, exist_ok=True)
    config = write_fleet(demo_spec(), directory, exporter_listen="127.0.0.1:0")
    users = directory / "local-users.toml"
    # A lighter scrypt cost: these passwords are public anyway, start-up should be instant.
    write_local_users(
        users,
        [
            LocalUser(name, hash_password(DEMO_PASSWORD, n=2**12), frozenset())
            for name in DEMO_USERS
        ],
    )
    with config.open("a") as fh:
        fh.write(f'\n[auth]\nlocal_users_file = "{users.resolve()}"\n\n{demo_grants()}')
        fh.write(f"\n{demo_storage()}")
    if ovirt_port is not None:  # the oVirt-compatible API on loopback TLS, with a CA of its own
        _ca, cert, key = make_ca(directory)
        text = config.read_text()
        mode = 'socket_mode = "0600"\n'
        assert mode in text, "the [api] section changed shape: update prepare_demo"
        keys = ovirt_api_keys(cert, key, f"127.0.0.1:{ovirt_port}")
        config.write_text(text.replace(mode, mode + keys, 1) + OVIRT_SECTION)
    return config


def free_port() -> int:
    """A loopback port free now (the demo prints its URL before the engine binds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_engine(
    config: Path, log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`env`: the engine's environment (default: this process's)."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "ovtui.cli.main", "--config", str(config), "engine"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )


def wait_ready(
    socket: Path, proc: subprocess.Popen[bytes], log_path: Path, timeout: float
) -> dict[str, Any]:
    """Waits until the engine has read every host once and every VM's domain XML (the first
    screen is then complete); returns its health."""
    client = Client(socket, timeout=2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the demo engine exited ({proc.returncode}):\n{log_path.read_text()}")
        try:
            health: dict[str, Any] = client.get("/api/v1/health")
            if health["hosts_read"] == health["hosts"] and not health["vms_config_pending"]:
                return health
        except ApiError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the demo engine did not answer within {timeout:.0f} s; log: {log_path}")


def stop_engine(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def _exit_on(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def run_demo(*, headless: bool = False, directory: str | None = None) -> None:
    # The engine runs in its own session, so a closed terminal (SIGHUP) or a kill (SIGTERM) reaches
    # only us: turn them into an exit that runs the `finally` below and stops the engine too.
    signal.signal(signal.SIGHUP, _exit_on)
    signal.signal(signal.SIGTERM, _exit_on)
    # Short path: a Unix socket path must stay under ~107 bytes.
    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="ovtui-demo-"))
    ovirt_port = free_port()
    config = prepare_demo(root, ovirt_port)
    api_socket, log_path = root / "api.sock", root / "engine.log"
    proc = start_engine(config, log_path)
    try:
        health = wait_ready(api_socket, proc, log_path, timeout=30)
        if headless:
            port = health.get("exporter_port")
            metrics = f"http://127.0.0.1:{port}/metrics" if port else "not serving"
            print(
                f"ovtui demo engine running (PID {proc.pid}); load is SYNTHETIC.\n"
                f"  export OVTUI_SOCKET={api_socket}\n"
                f"  ovtui login -u admin     (password: {DEMO_PASSWORD}; users: "
                f"{', '.join(DEMO_USERS)})\n  ovtui host list; ovtui vm list\n"
                f"Prometheus metrics: {metrics}\n"
                f"oVirt API (SDK, ovirt.ovirt): https://127.0.0.1:{ovirt_port}/ovirt-engine/api"
                f"  user admin@internal, CA file {root / 'ca.pem'}\n"
                f"engine log: {log_path}; Ctrl-C stops it and removes "
                f"{'nothing (--dir given)' if directory else root}."
            )
            proc.wait()
            return
        from ovtui.tui.app import run_dashboard

        client = Client(api_socket)
        client.login("admin", DEMO_PASSWORD)
        run_dashboard(api_socket, client.token or "", demo=True)
    except KeyboardInterrupt:
        pass
    finally:
        stop_engine(proc)
        if not directory:  # ours: the fleet copy, state and logs of a demo are disposable
            shutil.rmtree(root, ignore_errors=True)
