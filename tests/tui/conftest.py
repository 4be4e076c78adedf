"""A real engine on the demo fleet, in a subprocess, for the dashboard tests to talk to."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from ovtui.client import Client
from ovtui.demo import DEMO_PASSWORD, prepare_demo, start_engine, stop_engine, wait_ready
from ovtui.tui.app import OvtuiApp

FAST_REFRESH = 0.4  # seconds; the real dashboard uses 2 s


@dataclass
class DemoEngine:
    socket: Path
    proc: subprocess.Popen[bytes]
    config: Path
    log: Path

    def restart(self) -> None:
        stop_engine(self.proc)
        self.proc = start_engine(self.config, self.log)
        wait_ready(self.socket, self.proc, self.log, timeout=30)

    def client(self, user: str = "admin") -> Client:
        client = Client(self.socket, timeout=30)
        client.login(user, DEMO_PASSWORD)
        return client

    def token(self, user: str = "admin") -> str:
        client = self.client(user)
        client.close()
        return client.token or ""

    def get(self, path: str, **params: Any) -> Any:
        client = self.client()
        try:
            return client.get(path, **params)
        finally:
            client.close()

    def app(self, user: str = "admin") -> OvtuiApp:
        return OvtuiApp(self.socket, self.token(user), demo=True, refresh_seconds=FAST_REFRESH)


def run_engine() -> Iterator[DemoEngine]:
    # mkdtemp, not tmp_path: a Unix socket path must stay under 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="ovt-"))
    socket, log = root / "api.sock", root / "engine.log"
    config = prepare_demo(root)
    engine = DemoEngine(socket, start_engine(config, log), config, log)
    try:
        wait_ready(socket, engine.proc, log, timeout=30)
        yield engine
    finally:
        stop_engine(engine.proc)  # by PID: SIGTERM, then SIGKILL
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def engine() -> Iterator[DemoEngine]:
    yield from run_engine()


@pytest.fixture
def own_engine() -> Iterator[DemoEngine]:
    """For tests that stop the engine: nobody else may be using it."""
    yield from run_engine()


async def wait_for(
    pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 30.0, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        await pilot.pause(0.05)


async def wait_polls(pilot: Pilot[Any], app: OvtuiApp, count: int = 1) -> None:
    target = app.polls + count
    await wait_for(pilot, lambda: app.polls >= target, what=f"{count} refreshes")


async def api(call: Callable[..., Any], *args: Any) -> Any:
    """Sync client calls from async tests, off the event loop the app runs on."""
    return await asyncio.to_thread(call, *args)


@pytest.fixture
def cells_rendered(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(row, column) of each body cell DataTable renders (not its header or row labels), or
    NavTable draws itself (a one-line Text cell: NavTable._one_line_cell)."""
    from textual.widgets import DataTable

    from ovtui.tui.nav_table import NavTable

    cells: list[tuple[int, int]] = []
    real = DataTable._render_cell
    one_line = NavTable._one_line_cell

    def counted(self: DataTable[Any], row: int, column: int, *args: Any, **kw: Any) -> Any:
        if row >= 0 and column >= 0:
            cells.append((row, column))
        return real(self, row, column, *args, **kw)

    def counted_one_line(self: NavTable, value: object, row: int, column: int, *args: Any) -> Any:
        lines = one_line(self, value, row, column, *args)
        if lines is not None:
            cells.append((row, column))
        return lines

    monkeypatch.setattr(DataTable, "_render_cell", counted)
    monkeypatch.setattr(NavTable, "_one_line_cell", counted_one_line)
    return cells
