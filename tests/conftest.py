"""Shared fixtures: the engine serving the real API on a real Unix socket, and signed-in clients.

`start_engine(spec)` writes a test-driver fleet (own node XML copies in a short temp directory),
a local-users file with one user per role (password "demo"), and runs `run_engine` on its own
event loop in a background thread, exactly as `ovtui engine` would, until the test ends. Tests
talk to it over the socket with httpx (or the CLI); `LiveEngine.run` reaches into the engine's
loop when a test needs to (settle the inventory, simulate a hung host).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import shutil
import ssl
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from auth.local_users import LocalUser, write_local_users
from auth.passwords import hash_password
from auth.permissions import ROLES
from ovtui.config import Config, load_config
from ovtui.demo import DEMO_PASSWORD, DEMO_USERS
from ovtui.engine import Engine
from ovtui.engine.run import run_engine
from ovtui.model import HostState
from ovtui.testdriver_fleet import (
    ClusterSpec,
    DatacenterSpec,
    FleetSpec,
    HostSpec,
    VmSpec,
    write_fleet,
)
from tests.loop_watch import LoopWatch, pending_tasks, thread_stack

T = TypeVar("T")
PASSWORD = DEMO_PASSWORD
# One user per role, named as in the demo (admin, clusteradmin, poweruser, operator, viewer,
# auditor); a role added to ROLES later still gets a user, so the RBAC matrix can see it.
ROLE_USERS: dict[str, str] = {role: user for user, role in DEMO_USERS.items()}
ROLE_USERS.update({role: role.lower() for role in ROLES if role not in ROLE_USERS})
API = "/api/v1"


@functools.cache
def _password_hash() -> str:
    # A light scrypt cost, as in the demo: hashing once per session keeps sign-in fast.
    return hash_password(PASSWORD, n=2**12)


@functools.cache
def _unused_tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def short_tempdir() -> Path:
    """A fresh directory whose socket path stays well under the ~107-byte Unix socket limit."""
    base = tempfile.gettempdir()
    return Path(tempfile.mkdtemp(prefix="ovt-", dir=base if len(base) < 40 else "/tmp"))


def standard_spec() -> FleetSpec:
    """A small fleet with every kind of VM the action tests need.

    dc1/c1 (no memory over-commit): h1 (64 GiB) with HA, pinned, non-migratable, big and
    shut-off VMs; h2 (32 GiB, 8 GiB used). dc2/c2: h3 with a different CPU model.
    """
    sky, rome = "Skylake-Server", "EPYC-Rome"
    h1 = (
        VmSpec("web-1", 2, 4096, "web", ha=True),
        VmSpec("web-2", 2, 4096, "web"),
        VmSpec("big-1", 4, 40960, "db"),
        VmSpec("pin-1", 1, 1024, "infra", pinned=True),
        VmSpec("nomig-1", 1, 1024, "infra", migratable=False),
        VmSpec("off-1", 1, 2048, "batch", running=False),
    )
    return FleetSpec(
        datacenters=(DatacenterSpec("dc1", "first site"), DatacenterSpec("dc2", "second site")),
        clusters=(
            ClusterSpec("c1", "dc1", sky, memory_overcommit_percent=100),
            ClusterSpec("c2", "dc2", rome, memory_overcommit_percent=150),
        ),
        hosts=(
            HostSpec("h1", "c1", 16, 65536, sky, 2400, h1),
            HostSpec("h2", "c1", 8, 32768, sky, 2400, (VmSpec("db-1", 4, 8192, "db"),)),
            HostSpec("h3", "c2", 24, 49152, rome, 2600, (VmSpec("other-1", 2, 4096, "web"),)),
        ),
    )


def fleet_config(
    spec: FleetSpec,
    root: Path | None = None,
    *,
    prepare: Callable[[Path], None] | None = None,
    **engine_settings: Any,
) -> Config:
    """Writes the fleet, its config and the users file; `prepare(root)` may then damage files."""
    root = root or short_tempdir()
    path = write_fleet(spec, root)
    users = root / "local-users.toml"
    write_local_users(
        users,
        [LocalUser(user, _password_hash(), frozenset({role})) for role, user in ROLE_USERS.items()],
    )
    if prepare is not None:
        prepare(root)
    config = load_config(path)
    assert len(str(config.api.socket).encode()) < 107, config.api.socket
    return config.model_copy(
        update={
            "engine": config.engine.model_copy(update=engine_settings),
            "auth": config.auth.model_copy(update={"local_users_file": users}),
            # No Prometheus listener: these tests are about the API, and stopping the exporter
            # costs ~0.5 s per engine (socketserver's shutdown poll).
            "exporter": config.exporter.model_copy(update={"listen": None}),
        }
    )


def _stacks(live: LiveEngine) -> str:
    """What a stop is waiting on: every other thread, the loop's stalls, its pending tasks, and
    its own thread's stack last (CI shows the end of a long failure, not its middle)."""
    names = {t.ident: t.name for t in threading.enumerate()}
    loop_ident = live._thread.ident
    out = [
        f"--- thread {names.get(ident, ident)}\n" + "".join(traceback.format_stack(frame)[-8:])
        for ident, frame in sys._current_frames().items()
        if ident not in (loop_ident, threading.get_ident())
    ]
    out += live.watch.stalls or ["--- the engine loop never stalled for 5 s"]
    out.append("--- the engine loop's pending tasks\n" + pending_tasks(live.loop))
    out.append("--- the engine loop's thread (test-engine)\n" + thread_stack(loop_ident))
    return "\n".join(out)


class LiveEngine:
    """`run_engine` on its own loop and thread, serving the API on `socket` until `stop()`."""

    def __init__(self, config: Config, *, wait_hosts: bool = True) -> None:
        self.config = config
        self.socket: Path = config.api.socket
        self.store_dir: Path = config.engine.store_dir
        self.loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._clients: dict[str | None, httpx.Client] = {}
        self._failure: BaseException | None = None
        self._engine: Engine | None = None
        ready = threading.Event()

        def on_ready(engine: Engine) -> None:
            self._engine = engine
            ready.set()

        def serve() -> None:
            try:
                self.loop.run_until_complete(run_engine(config, stop=self._stop, on_ready=on_ready))
            except BaseException as exc:  # surfaced by the constructor or by stop()
                self._failure = exc
            finally:
                ready.set()

        self._thread = threading.Thread(target=serve, name="test-engine", daemon=True)
        self._thread.start()
        self.watch = LoopWatch(self.loop, self._thread)
        self.watch.start()
        if not ready.wait(20):
            raise AssertionError("the engine did not start within 20 s")
        if self._failure is not None:
            raise self._failure
        if wait_hosts:
            self.run(self.engine.fleet.wait_connected(10))

    @property
    def engine(self) -> Engine:
        assert self._engine is not None, "the engine is not running"
        return self._engine

    # -- reaching into the engine's loop ----------------------------------------------------------
    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 20) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def settle(self) -> None:
        """Re-reads every reachable host now, so the snapshot shows what libvirt has."""

        async def refresh_all() -> None:
            fleet = self.engine.fleet
            for name, link in fleet.links.items():
                if link.state == HostState.UP:
                    await fleet.refresh(name)

        self.run(refresh_all())

    # -- clients ------------------------------------------------------------------------------
    def client(self, token: str | None = None) -> httpx.Client:
        """An HTTP client on the API socket, sending `token` (one client per token, reused)."""
        client = self._clients.get(token)
        if client is None:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            client = self._clients[token] = httpx.Client(
                # http over a Unix socket never uses TLS; sharing one context saves ~20 ms of
                # CA-bundle loading per client.
                transport=httpx.HTTPTransport(uds=str(self.socket), verify=_unused_tls()),
                base_url="http://ovtui",
                headers=headers,
                timeout=30,
            )
        return client

    def login(self, user: str, password: str = PASSWORD) -> str:
        resp = self.client().post(f"{API}/sessions", json={"username": user, "password": password})
        assert resp.status_code == 200, resp.text
        token: str = resp.json()["token"]
        return token

    def as_user(self, user: str) -> httpx.Client:
        return self.client(self.login(user))

    def as_role(self, role: str) -> httpx.Client:
        return self.as_user(ROLE_USERS[role])

    # -- files --------------------------------------------------------------------------------
    @property
    def audit_path(self) -> Path:
        return self.store_dir / "audit.jsonl"

    def audit_records(self) -> list[dict[str, Any]]:
        """The audit trail as written on disk (not through the API)."""
        lines = self.audit_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def node_file(self, host: str) -> Path:
        return self.store_dir.parent / f"{host}.xml"

    def begin_stop(self) -> None:
        """Asks the engine to stop (as SIGTERM would) without waiting for it."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        if self._thread.is_alive() and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._stop.set)

    def stop(self, *, close_logs: bool = True) -> None:
        """Stops the engine and waits; raises what the engine failed with, if anything."""
        self.begin_stop()
        # Generous (the machine is shared); an engine bounds its own stop (API grace 10 s, one
        # libvirt call timeout per host, in parallel), so only a real hang gets here.
        self._thread.join(60)
        if self._thread.is_alive():
            raise AssertionError(f"the engine did not stop within 60 s:\n{_stacks(self)}")
        self.watch.stop()
        for stall in self.watch.stalls:  # shown with a failing test's captured output
            print(stall, file=sys.stderr)
        if not self.loop.is_closed():
            self.loop.close()
        if self._engine is not None and close_logs:
            # Engine.stop() closes its logs itself (tests/test_engine_files.py); closing again
            # is harmless and keeps a long run within its file descriptors if a stop failed.
            for log in (self._engine.events, self._engine.migrations, self._engine.audit_log):
                log.close()
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure


@contextlib.contextmanager
def running_engine(spec: FleetSpec, **engine_settings: Any) -> Iterator[LiveEngine]:
    """For module-scoped fixtures, where the state a test leaves cannot affect the next one."""
    with engine_on(fleet_config(spec, **engine_settings)) as live:
        yield live


@contextlib.contextmanager
def engine_on(config: Config) -> Iterator[LiveEngine]:
    """An engine on `config`, stopped and its store directory removed afterwards."""
    try:
        live = LiveEngine(config)
        try:
            yield live
        finally:
            live.stop()
    finally:
        shutil.rmtree(config.engine.store_dir.parent, ignore_errors=True)


@pytest.fixture
def start_engine() -> Iterator[Callable[..., LiveEngine]]:
    """start_engine(spec=None, *, config=None, prepare=None, **engine_settings) -> LiveEngine.

    Without `config`, writes `spec` (default: standard_spec()) to a fresh directory. Everything
    started is stopped, and its directory removed, when the test ends.
    """
    started: list[LiveEngine] = []
    roots: list[Path] = []

    def start(
        spec: FleetSpec | None = None,
        *,
        config: Config | None = None,
        prepare: Callable[[Path], None] | None = None,
        wait_hosts: bool = True,
        **engine_settings: Any,
    ) -> LiveEngine:
        if config is None:
            config = fleet_config(spec or standard_spec(), prepare=prepare, **engine_settings)
        roots.append(config.engine.store_dir.parent)
        live = LiveEngine(config, wait_hosts=wait_hosts)
        started.append(live)
        return live

    yield start
    for live in started:
        live.begin_stop()
    _REAPER.reap(started, roots)


class _Reaper:
    """Finishes stopping engines in the background while the next test runs.

    uvicorn takes ~0.15 s to shut down (mostly its 0.1 s tick): waiting for that in every
    teardown would add seconds to the suite. A failed stop is still reported, at session end.
    """

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._failures: list[str] = []

    def reap(self, lives: list[LiveEngine], roots: list[Path]) -> None:
        def finish() -> None:
            for live in lives:
                try:
                    live.stop()
                except BaseException as exc:
                    self._failures.append(f"{live.config.source}: {exc!r}")
            for root in roots:
                shutil.rmtree(root, ignore_errors=True)

        thread = threading.Thread(target=finish, name="engine-reaper", daemon=True)
        thread.start()
        self._threads.append(thread)

    def finish(self) -> list[str]:
        for thread in self._threads:
            thread.join(30)
        self._threads.clear()
        failures, self._failures = self._failures, []
        return failures


_REAPER = _Reaper()


@pytest.fixture(scope="session", autouse=True)
def _engines_stopped_cleanly() -> Iterator[None]:
    yield
    failures = _REAPER.finish()
    assert not failures, "engines failed while stopping:\n" + "\n".join(failures)


@pytest.fixture
def live(start_engine: Callable[..., LiveEngine]) -> LiveEngine:
    """A running engine on standard_spec(), fresh for each test."""
    return start_engine()


def eventually(check: Callable[[], T], timeout: float = 30.0, what: str = "condition") -> T:
    """Polls `check` until it returns something truthy; fails naming `what` after `timeout`
    (generous by default: on a shared, loaded machine a deadline is a hang guard, not a bound)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s (last: {result!r})")
        time.sleep(0.02)
