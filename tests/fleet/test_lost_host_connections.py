"""What a lost or failing host leaves behind on the engine's side.

The exception that reaches the event loop must not hold the failed call's domains: freed later
by the garbage collector on the loop, after their connection was closed, a domain closes the
connection for good, a round trip that on a hung host stalls the whole engine (~20 s, the
keepalive, measured on the lab with a frozen libvirtd)."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from typing import Any

import libvirt
import pytest

from ovtui.config.schema import HostConfig
from ovtui.fleet.errors import FleetError
from ovtui.fleet.host_link import HostLink
from ovtui.model import HostState


async def _up_link() -> HostLink:
    link = HostLink(
        HostConfig(name="h1", cluster="c1", uri="test:///default"),
        call_timeout=5,
        backoff_max=1,
        on_lifecycle=lambda *_a: None,
    )
    link.start()
    deadline = time.monotonic() + 30
    while link.state != HostState.UP:
        assert time.monotonic() < deadline, link.reason
        await asyncio.sleep(0.01)
    return link


@pytest.mark.parametrize("failure", ["libvirt", "python"])
async def test_a_failed_call_carries_no_domain_to_the_loop(failure: str) -> None:
    link = await _up_link()
    seen: list[weakref.ref[Any]] = []

    def fails(conn: libvirt.virConnect) -> None:
        dom = conn.lookupByName("test")  # the test driver's own domain
        seen.append(weakref.ref(dom))
        if failure == "libvirt":
            conn.lookupByName("no-such-domain")
        raise ValueError("a bug in an operation")

    gc.disable()  # only reference counting: what is freed now is not held by the exception
    try:
        with pytest.raises((FleetError, ValueError)) as caught:
            await link.call(fails, action="read", vm="test")
        assert seen and seen[0]() is None, "the exception still holds the call's domain"
        assert caught.value is not None  # held until here
    finally:
        gc.enable()
        await link.stop()


async def test_a_connection_dropped_while_its_host_hung_is_closed_once_the_host_answers() -> None:
    """Dropped as lost, a connection keeps its callbacks (deregistering them as it died
    crashed libvirt-python); if the host was only slow, the connection is alive, and is closed
    with its callbacks once a new one is up, instead of staying open for good."""
    link = await _up_link()
    try:
        old = link.conn
        assert old is not None
        link.mark_lost("no answer within 5 s (test)")
        assert old.isAlive() == 1  # nothing was closed: the host only seemed hung
        assert old.domainEventCallbackID
        deadline = time.monotonic() + 30
        while True:  # reconnects after its back-off, then retires the old connection
            try:
                old.isAlive()
            except libvirt.libvirtError:
                break  # closed
            assert time.monotonic() < deadline, "the dropped connection was never closed"
            await asyncio.sleep(0.05)
        assert link.state == HostState.UP and link.conn is not old
        # libvirt-python's own record of the domain event callbacks: deregistered
        assert old.domainEventCallbackID == {}
    finally:
        await link.stop()
