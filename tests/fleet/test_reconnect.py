"""A host that cannot be reached is non_responsive with a reason, and comes back by itself."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import unquote

from ovtui.model import HostState, VmState
from ovtui.testdriver_fleet import FleetSpec
from tests.fleet.conftest import fleet_config


async def test_missing_host_is_non_responsive_then_recovers(started, small_spec: FleetSpec) -> None:
    config = fleet_config(small_spec, connect_backoff_max_seconds=1.0)
    node = Path(unquote(config.hosts[1].uri.removeprefix("test://")))
    saved = node.read_text()
    node.unlink()
    fleet = await started(config)
    snap = fleet.snapshot()
    broken = snap.host(config.hosts[1].name)
    assert broken is not None and broken.state == HostState.NON_RESPONSIVE
    assert broken.state_reason  # says why (libvirt's message) and when it retries
    assert "retrying" in broken.state_reason
    others = [h for h in snap.hosts if h.name != broken.name]
    assert all(h.state == HostState.UP for h in others)

    node.write_text(saved)
    deadline = time.monotonic() + 60  # generous: a shared, busy machine
    while time.monotonic() < deadline:
        host = fleet.snapshot().host(broken.name)
        if host is not None and host.state == HostState.UP and host.vms_running:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the host did not come back within 60 s of its file returning")


async def test_after_a_reconnect_old_readings_count_as_unknown_until_read_again(
    started, small_spec: FleetSpec
) -> None:
    """A host back from an outage is up before it is read again; until then the VMs it listed
    before the outage are state unknown (they may have moved: a reachable host's copy wins)."""
    fleet = await started(fleet_config(small_spec, poll_interval_seconds=3600))
    host = next(iter(fleet.links))
    await fleet.refresh(host)
    assert {vm.state for vm in fleet.snapshot().vms_on(host)} - {VmState.UNKNOWN}

    fleet._link_state_changed(host)  # what the link reports when it has reconnected
    assert fleet.links[host].state == HostState.UP
    assert {vm.state for vm in fleet.snapshot().vms_on(host)} == {VmState.UNKNOWN}

    await fleet.refresh(host)
    assert VmState.UNKNOWN not in {vm.state for vm in fleet.snapshot().vms_on(host)}
