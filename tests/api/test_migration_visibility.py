"""A VM being moved is listed exactly once, as `migrating` from its source to its target.

The migration's libvirt steps are gated: after each step (define on the target, stop on the
source, ...) the move waits until the test lets it go. In every such window the test re-reads
the hosts (so the snapshot holds exactly what libvirt has in the middle of the move) and asks
the API, while other threads hammer GET /vms and GET /vms/NAME all along: no timing is assumed,
every read that matters certainly lands inside the window it checks.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import libvirt
import pytest

from ovtui.fleet import migration_ops
from tests.conftest import API, LiveEngine
from tests.vm_watch import WAIT, Hammer

COLD_STEPS = ("define on h2", "destroy on h1", "create on h2", "undefine on h1")
OFFLINE_STEPS = ("define on h2", "undefine on h1")


class Gates:
    """Each named step, once done, waits for `release(step)`; `reached(step)` waits for it."""

    def __init__(self, steps: tuple[str, ...]) -> None:
        self._reached = {s: threading.Event() for s in steps}
        self._go = {s: threading.Event() for s in steps}

    def after(self, step: str) -> None:  # on the engine's host thread, inside the migration
        self._reached[step].set()
        if not self._go[step].wait(WAIT):
            raise AssertionError(f"the test never released {step!r}")

    def reached(self, step: str) -> None:
        assert self._reached[step].wait(WAIT), f"the migration never reached {step!r}"

    def release(self, step: str) -> None:
        self._go[step].set()

    def release_all(self) -> None:
        for go in self._go.values():
            go.set()


class _Dom:
    def __init__(self, dom: libvirt.virDomain, gates: Gates, host: str) -> None:
        self._dom, self._gates, self._host = dom, gates, host

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dom, name)

    def _step(self, call: str) -> None:
        getattr(self._dom, call)()
        self._gates.after(f"{call} on {self._host}")

    def destroy(self) -> None:
        self._step("destroy")

    def create(self) -> None:
        self._step("create")

    def undefine(self) -> None:
        self._step("undefine")


class _Conn:
    """A real connection whose domain steps pass through the gates."""

    def __init__(self, conn: libvirt.virConnect, gates: Gates, host: str) -> None:
        self._conn, self._gates, self._host = conn, gates, host

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def lookupByUUIDString(self, uuid: str) -> _Dom:
        return _Dom(self._conn.lookupByUUIDString(uuid), self._gates, self._host)

    def defineXML(self, xml: str) -> _Dom:
        dom = self._conn.defineXML(xml)
        self._gates.after(f"define on {self._host}")
        return _Dom(dom, self._gates, self._host)


def _gate(monkeypatch: pytest.MonkeyPatch, gates: Gates, mode: str) -> None:
    real = getattr(migration_ops, mode)

    def gated(uuid: str, dconn: libvirt.virConnect) -> Callable[[libvirt.virConnect], Any]:
        op = real(uuid, _Conn(dconn, gates, "h2"))
        return lambda conn: op(_Conn(conn, gates, "h1"))

    monkeypatch.setattr(migration_ops, mode, gated)


def _shown(api: httpx.Client, name: str) -> list[dict[str, Any]]:
    """The VM as both reads show it: once in the list, and the same by name."""
    listed = [v for v in api.get(f"{API}/vms").json() if v["name"] == name]
    one = api.get(f"{API}/vms/{name}")
    assert one.status_code == 200, f"GET /vms/{name}: {one.status_code} {one.text}"
    assert len(listed) == 1, f"{name} listed {len(listed)} times: {listed}"
    assert {k: listed[0][k] for k in ("host", "state")} == {
        k: one.json()[k] for k in ("host", "state")
    }
    return listed


def _migrating(api: httpx.Client, name: str, mode: str) -> None:
    (vm,) = _shown(api, name)
    got = {k: vm[k] for k in ("host", "state", "migration_source", "migration_target")}
    assert got == {
        "host": "h1",
        "state": "migrating",
        "migration_source": "h1",
        "migration_target": "h2",
    }
    assert vm["migration_mode"] == mode


@pytest.fixture
def migrating_engine(
    start_engine: Callable[..., LiveEngine],
) -> Iterator[tuple[LiveEngine, ThreadPoolExecutor]]:
    live = start_engine()
    pool = ThreadPoolExecutor(max_workers=1)
    yield live, pool
    pool.shutdown(wait=True)


def _hold_reads(live: LiveEngine, host: str) -> Callable[[], None]:
    """Background and after-action reads of `host` wait until the returned function is called;
    the test's own reads (the original method) still go through."""
    fleet = live.engine.fleet
    refresh = fleet.refresh
    opened = live.run(_new_event())

    async def held(name: str, **kwargs: Any) -> None:
        if name == host:
            await opened.wait()
        await refresh(name, **kwargs)

    fleet.refresh = held  # type: ignore[method-assign]
    return lambda: live.loop.call_soon_threadsafe(opened.set)


async def _new_event() -> asyncio.Event:
    return asyncio.Event()


def _read(live: LiveEngine, refresh: Callable[..., Any], *hosts: str) -> None:
    for host in hosts:
        live.run(refresh(host))


def test_a_vm_moved_cold_is_listed_once_as_migrating_throughout(
    migrating_engine: tuple[LiveEngine, ThreadPoolExecutor], monkeypatch: pytest.MonkeyPatch
) -> None:
    live, pool = migrating_engine
    api = live.as_role("PowerUser")
    gates = Gates(COLD_STEPS)
    _gate(monkeypatch, gates, "cold")
    read = live.engine.fleet.refresh  # the real read, whatever is patched below
    # h2 is not read (not by polls, not after the action) until the source has undefined the
    # VM: the snapshot then holds h1 read after the VM left it and h2 read before it arrived.
    open_h2 = _hold_reads(live, "h2")
    hammer = Hammer(live, "web-2")
    try:
        moved: Future[httpx.Response] = pool.submit(
            api.post, f"{API}/vms/web-2/migrate", json={"target": "h2"}, timeout=WAIT
        )
        for step in COLD_STEPS:
            gates.reached(step)
            before = hammer.rounds()
            _read(live, read, "h1")
            _migrating(api, "web-2", "cold")
            if step == "undefine on h1":
                open_h2()
                _read(live, read, "h2")
                _migrating(api, "web-2", "cold")
            if step == "create on h2":  # a moving VM refuses other actions, naming the move
                for path, body in (("poweroff", None), ("migrate", {"target": "h2"})):
                    resp = api.post(f"{API}/vms/web-2/{path}", json=body)
                    assert resp.status_code == 409, resp.text
                    assert "migrating from h1 to h2" in resp.json()["error"]["message"]
            hammer.wait_rounds_after(before)
            gates.release(step)
        resp = moved.result(WAIT)
    finally:
        gates.release_all()
        open_h2()
        hammer.stop()
    assert resp.status_code == 200, resp.text
    assert resp.json()["mode"] == "cold"
    # the next read after the answer: on the target, running, no longer migrating
    (vm,) = _shown(api, "web-2")
    assert (vm["host"], vm["state"], vm["migration_source"]) == ("h2", "running", "")
    hammer.check("h1", "h2", before="running", after="running")


def test_a_shut_off_vm_moved_is_listed_once_as_migrating_throughout(
    migrating_engine: tuple[LiveEngine, ThreadPoolExecutor], monkeypatch: pytest.MonkeyPatch
) -> None:
    live, pool = migrating_engine
    api = live.as_role("PowerUser")
    gates = Gates(OFFLINE_STEPS)
    _gate(monkeypatch, gates, "offline")
    read = live.engine.fleet.refresh
    hammer = Hammer(live, "off-1")
    try:
        moved = pool.submit(
            api.post, f"{API}/vms/off-1/migrate", json={"target": "h2"}, timeout=WAIT
        )
        for step in OFFLINE_STEPS:
            gates.reached(step)
            before = hammer.rounds()
            # both hosts read in the window: after the define, libvirt has the VM on both
            _read(live, read, "h1", "h2")
            _migrating(api, "off-1", "offline")
            hammer.wait_rounds_after(before)
            gates.release(step)
        resp = moved.result(WAIT)
    finally:
        gates.release_all()
        hammer.stop()
    assert resp.status_code == 200, resp.text
    (vm,) = _shown(api, "off-1")
    assert (vm["host"], vm["state"], vm["migration_target"]) == ("h2", "shutoff", "")
    # shut off while moved: it holds no memory on either host meanwhile
    hammer.check("h1", "h2", before="shutoff", after="shutoff")
