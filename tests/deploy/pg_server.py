"""A real PostgreSQL server for the tests: initdb in a temp dir, on 127.0.0.1 and a free port,
run as the unprivileged `postgres` user (the server refuses root), stopped by its PID."""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

BIN = Path("/usr/lib/postgresql/15/bin")
_names = itertools.count(1)


def available() -> str | None:
    """Why the server cannot run here, or None."""
    if not (BIN / "postgres").exists():
        return "Debian package postgresql (15) is not installed"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres user (Debian's postgresql package creates it)"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) missing"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    def __init__(self) -> None:
        user = pwd.getpwnam("postgres")
        self.dir = Path(tempfile.mkdtemp(prefix="ovtui-pg-"))
        os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.data = self.dir / "data"
        as_postgres = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                       "--init-groups", "--"]  # fmt: skip
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(self.dir)}
        subprocess.run(
            [*as_postgres, str(BIN / "initdb"), "-D", str(self.data), "-U", "ovtui",
             "--auth=trust", "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True, env=env, cwd=self.dir,
        )  # fmt: skip
        self.port = _free_port()
        self.log = self.dir / "server.log"
        self._log = self.log.open("wb")
        self.proc = subprocess.Popen(
            [*as_postgres, str(BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.dir}",
             "-c", "fsync=on", "-c", "max_connections=100"],
            stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=self.dir,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.dsn("postgres"), connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    tail = self.log.read_text()[-2000:]
                    raise RuntimeError(f"postgres did not start: {tail}") from None
                time.sleep(0.1)

    def dsn(self, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=ovtui dbname={dbname}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its DSN."""
        name = f"t{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
