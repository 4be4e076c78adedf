"""`ovtui engine` processes on one PostgreSQL database, for the takeover tests and the bench."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from auth.local_users import LocalUser, write_local_users
from auth.passwords import hash_password
from ovtui.testdriver_fleet import write_fleet
from tests.conftest import standard_spec

PASSWORD = "demo-pass-1"


def engine_config(root: Path, dsn: str, *, poll: float = 0.2) -> Path:
    """A test-driver fleet config whose state is the database `dsn`."""
    root.mkdir(parents=True, exist_ok=True)
    path = write_fleet(standard_spec(), root, exporter_listen="127.0.0.1:0")
    users = root / "local-users.toml"
    write_local_users(users, [LocalUser("admin", hash_password(PASSWORD, n=2**10),
                                        frozenset({"SuperUser"}))])  # fmt: skip
    text = path.read_text().replace(
        "[engine]\n", f'[engine]\npostgresql = "{dsn}"\nstandby_poll_seconds = {poll}\n', 1
    )
    path.write_text(text + f'\n[auth]\nlocal_users_file = "{users}"\n')
    return path


class EngineProcess:
    def __init__(self, config: Path) -> None:
        self.config, self.socket = config, config.parent / "api.sock"
        self.log = (config.parent / "engine.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ovtui.cli.main", "--config", str(config), "engine"],
            stdout=self.log, stderr=subprocess.STDOUT, env=os.environ.copy(),
        )  # fmt: skip
        self.pid = self.proc.pid

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = httpx.HTTPTransport(uds=str(self.socket))
        return httpx.Client(transport=transport, base_url="http://ovtui", headers=headers,
                            timeout=10)  # fmt: skip

    def health(self) -> dict[str, Any] | None:
        try:
            with self.client() as c:
                data: dict[str, Any] = c.get("/api/v1/health").json()
                return data
        except (httpx.HTTPError, OSError, ValueError):
            return None

    def wait_status(self, status: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            h = self.health()
            if h is not None and h.get("status") == status:
                return h
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"engine {self.pid} not {status}: {self.log_text()[-3000:]}")

    def login(self) -> str:
        with self.client() as c:
            r = c.post("/api/v1/sessions", json={"username": "admin", "password": PASSWORD})
            assert r.status_code == 200, r.text
            token: str = r.json()["token"]
            return token

    def log_text(self) -> str:
        return (self.config.parent / "engine.log").read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            os.kill(self.pid, sig)
        self.proc.wait(30)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        self.log.close()


def lab_engine_config(lab_config: Path, root: Path, dsn: str, *, poll: float = 0.5) -> Path:
    """The lab's own config (its hosts, their migration URIs) for one engine of several on the
    database `dsn`: its own API socket, store directory and users, no scheduled plans."""
    root.mkdir(parents=True, exist_ok=True)
    users = root / "local-users.toml"
    write_local_users(users, [LocalUser("admin", hash_password(PASSWORD, n=2**10),
                                        frozenset({"SuperUser"}))])  # fmt: skip
    lines = []
    for line in lab_config.read_text().splitlines():
        key = line.split("=", 1)[0].strip()
        if key == "store_dir":
            line = f'store_dir = "{root / "store"}"'
        elif key == "socket":
            line = f'socket = "{root / "api.sock"}"'
        elif key == "listen":
            line = 'listen = "127.0.0.1:0"'
        elif key == "local_users_file":
            line = f'local_users_file = "{users}"'
        elif key == "mode":
            line = 'mode = "off"  # plans come from the test only'
        elif key == "params" and "HighUtilization" in line:
            line = "params = { HighUtilization = 80, MaxParallelMigrations = 1 }"
        lines.append(line)
        if line == "[engine]":
            lines += [f'postgresql = "{dsn}"', f"standby_poll_seconds = {poll}"]
    path = root / "ovtui.toml"
    path.write_text("\n".join(lines) + "\n")
    return path
