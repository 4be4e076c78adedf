"""A host that hangs or fails becomes non_responsive, and nothing else waits for it."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ovtui.config.schema import HostConfig
from ovtui.fleet.errors import FleetError
from ovtui.fleet.host_link import HostLink
from ovtui.fleet.reading import read_host
from ovtui.model import HostState
from ovtui.testdriver_fleet import host_uri, write_nodes
from tests.conftest import API, LiveEngine, short_tempdir, standard_spec


class HungConnection:
    """A libvirt connection whose every call blocks until `gate` opens (a hung libvirtd)."""

    def __init__(self, gate: threading.Event) -> None:
        self._gate = gate
        self.entered = threading.Event()  # some call is blocked in here now

    def __getattr__(self, name: str) -> Any:
        def hang(*_args: Any, **_kwargs: Any) -> None:
            self.entered.set()
            self._gate.wait()

        return hang


# -- one HostLink on its own ---------------------------------------------------------------------
@pytest.fixture
def node_files() -> Iterator[dict[str, Path]]:
    root = short_tempdir()
    yield write_nodes(standard_spec(), root)
    shutil.rmtree(root, ignore_errors=True)


async def _up(*links: HostLink) -> None:
    for link in links:
        link.start()
    deadline = time.monotonic() + 30
    while not all(link.state == HostState.UP for link in links):
        assert time.monotonic() < deadline, [(x.name, x.state, x.reason) for x in links]
        await asyncio.sleep(0.01)


async def test_a_hung_call_times_out_and_marks_only_its_host(node_files) -> None:
    transitions: list[tuple[str, HostState]] = []
    links = {
        name: HostLink(
            HostConfig(name=name, cluster="c1", uri=host_uri(node_files[name])),
            call_timeout=0.5,
            backoff_max=1.0,
            on_state_change=lambda h: transitions.append((h, links[h].state)),
        )
        for name in ("h1", "h2")
    }
    hung, healthy = links["h1"], links["h2"]
    gate = threading.Event()
    try:
        await _up(hung, healthy)
        entered = threading.Event()

        def blocked(_conn: Any) -> None:
            entered.set()
            gate.wait()  # opened only when the test ends

        began = time.monotonic()
        stuck = asyncio.create_task(hung.call(blocked, action="probe", vm="x"))
        assert await asyncio.to_thread(entered.wait, 30), "the hung call never started"
        # meanwhile the other host answers (its own threads: h1's are blocked until the end)
        reading = await healthy.call(lambda c: read_host(c, {}), action="list VMs")
        assert {d.name for d in reading.domains} == {"db-1"}

        # the hung call ends by its own timeout (no sooner), not by the gate: that stays shut
        with pytest.raises(FleetError) as info:
            await asyncio.wait_for(stuck, 60)
        assert time.monotonic() - began > 0.45
        assert not gate.is_set()
        assert info.value.kind == "timeout" and info.value.host == "h1" and info.value.vm == "x"
        assert "probe on h1 got no answer within" in info.value.message
        assert "marked non_responsive" in info.value.message
        assert hung.state == HostState.NON_RESPONSIVE
        assert "no answer within" in hung.reason and "(probe)" in hung.reason
        assert healthy.state == HostState.UP
        assert ("h1", HostState.NON_RESPONSIVE) in transitions
        assert all(h == "h1" for h, _ in transitions[2:])  # h2 never changed after coming up

        # a call to the marked host is refused at once instead of waiting again (no await since
        # the state was checked above, so the reconnect cannot have happened in between)
        with pytest.raises(FleetError) as refused:
            await hung.call(lambda c: c.getType(), action="probe again")
        assert refused.value.kind == "unavailable"
        assert refused.value.message.startswith("probe again on h1 refused: host is non_responsive")
        # and the test driver answers again, so the link reconnects by itself
        deadline = time.monotonic() + 30
        while hung.state != HostState.UP:
            assert time.monotonic() < deadline, hung.reason
            await asyncio.sleep(0.02)
        assert await hung.call(lambda c: c.getType(), action="probe") == "TEST"
    finally:
        gate.set()
        await asyncio.gather(*(link.stop() for link in links.values()))


# -- through the running engine -----------------------------------------------------------------
@contextlib.contextmanager
def hung_host(live: LiveEngine, name: str, monkeypatch) -> Iterator[threading.Event]:
    """Makes every libvirt call to `name`, reconnects included, block until the test ends."""
    gate = threading.Event()
    link = live.engine.fleet.links[name]
    real_open = link._open_blocking

    def hanging_open() -> Any:
        gate.wait()
        return real_open()

    monkeypatch.setattr(link, "_open_blocking", hanging_open)
    monkeypatch.setattr(link, "conn", HungConnection(gate))
    try:
        yield gate
    finally:
        gate.set()  # let the abandoned threads finish before the engine stops


def _timed(client: httpx.Client, method: str, url: str, **kw: Any) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    resp = client.request(method, url, **kw)
    return resp, time.monotonic() - began


def test_a_hung_host_stalls_nothing_else(start_engine, monkeypatch) -> None:
    # No background polls: every call to h1 here is one the test makes.
    live = start_engine(libvirt_call_timeout_seconds=1.0, poll_interval_seconds=3600)
    admin = live.as_role("SuperUser")
    link = live.engine.fleet.links["h1"]
    with hung_host(live, "h1", monkeypatch):
        hung: HungConnection = link.conn  # type: ignore[assignment]
        # 1. A poweroff stuck inside h1's libvirt that cannot end during the checks (a call's
        #    time limit is fixed when it starts): the other requests answer meanwhile, however
        #    slow the machine. Had one of them waited for h1, it would never have answered.
        monkeypatch.setattr(link, "call_timeout", 3600.0)
        waiting = threading.Thread(
            target=lambda: admin.post(f"{API}/vms/web-2/poweroff"), daemon=True
        )
        waiting.start()
        assert hung.entered.wait(30), "the poweroff never reached h1's libvirt"
        for method, url in (
            ("GET", f"{API}/hosts/h2"),
            ("GET", f"{API}/vms?host=h2"),
            ("GET", f"{API}/health"),
            ("POST", f"{API}/vms/db-1/reboot"),  # an action on another host
            ("POST", f"{API}/vms/other-1/suspend"),
        ):
            resp = admin.request(method, url, timeout=30)
            assert resp.status_code == 200, (url, resp.text)
        assert waiting.is_alive()

        # 2. A call with the configured 1 s limit times out, and marks the host.
        monkeypatch.setattr(link, "call_timeout", 1.0)
        resp, took = _timed(admin, "POST", f"{API}/vms/web-1/poweroff")
        assert resp.status_code == 504, resp.text
        error = resp.json()["error"]
        assert (error["kind"], error["host"], error["vm"]) == ("timeout", "h1", "web-1")
        assert error["message"] == (
            "poweroff on h1 got no answer within 1 s; the host is marked non_responsive"
        )
        assert took > 0.9  # it waited for its time limit, no less
        audit = live.engine.audit_log.tail(5)
        assert any(
            r["action"] == "vm.poweroff"
            and r["result"] == "failed"
            and r["target"] == "vm/web-1@h1"
            for r in audit
        )

        h1 = admin.get(f"{API}/hosts/h1").json()
        assert h1["state"] == "non_responsive" and "no answer" in h1["state_reason"]
        assert {v["state"] for v in h1["vms"]} == {"unknown"}  # not guessed from stale data
        assert admin.get(f"{API}/health").json()["hosts_up"] == 2
        states = {h["name"]: h["state"] for h in admin.get(f"{API}/hosts").json()}
        assert states == {"h1": "non_responsive", "h2": "up", "h3": "up"}
        events = admin.get(f"{API}/events", params={"host": "h1", "kind": "host"}).json()
        assert "non_responsive" in [e["what"] for e in events]

        # further actions on the host are refused without asking it, with the reason
        resp = admin.post(f"{API}/vms/big-1/poweroff")
        assert resp.status_code == 503
        assert resp.json()["error"]["message"].startswith(
            "poweroff on h1 refused: host is non_responsive ("
        )
        # and it is no migration target
        resp = admin.post(f"{API}/vms/db-1/migrate", json={"target": "h1"})
        assert resp.status_code == 409
        assert "target h1 is non_responsive" in resp.json()["error"]["message"]
    waiting.join(30)  # the gate is open now: the stuck poweroff ends (how, does not matter)


def _break_nodes(root: Path) -> None:
    (root / "h2.xml").unlink()
    (root / "h3.xml").write_text("<node><cpu>garbage")


def test_missing_or_broken_node_files_make_only_those_hosts_non_responsive(start_engine) -> None:
    live = start_engine(prepare=_break_nodes)
    api = live.as_role("ReadOnly")
    hosts = {h["name"]: h for h in api.get(f"{API}/hosts").json()}
    assert hosts["h1"]["state"] == "up" and hosts["h1"]["vms_running"] == 5
    for name in ("h2", "h3"):
        host = hosts[name]
        assert host["state"] == "non_responsive"
        reason = host["state_reason"]
        assert reason.startswith(f"connect on {name} failed: ")
        assert str(live.node_file(name)) in reason  # names the file to look at
        assert "retrying in" in reason
    assert "failed to parse xml document" in hosts["h2"]["state_reason"]
    assert "Premature end of data" in hosts["h3"]["state_reason"]
    # the working host is fully usable; the others list no VMs rather than stale ones
    assert {v["host"] for v in api.get(f"{API}/vms").json()} == {"h1"}
    assert api.get(f"{API}/health").json()["hosts_up"] == 1
    events = api.get(f"{API}/events", params={"kind": "host"}).json()
    assert {(e["host"], e["what"]) for e in events} >= {
        ("h1", "up"),
        ("h2", "non_responsive"),
        ("h3", "non_responsive"),
    }
    admin = live.as_role("SuperUser")
    assert admin.post(f"{API}/vms/web-2/poweroff").status_code == 200
    resp = admin.post(f"{API}/vms/web-1/migrate", json={"target": "h2"})
    assert resp.status_code == 409
    assert "target h2 is non_responsive" in resp.json()["error"]["message"]


def test_a_broken_node_file_reason_is_one_line(start_engine) -> None:
    live = start_engine(prepare=_break_nodes)
    reason = live.as_role("ReadOnly").get(f"{API}/hosts/h3").json()["state_reason"]
    assert "\n" not in reason, reason
