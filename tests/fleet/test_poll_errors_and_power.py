"""Failed polls are counted; a host powered off on purpose is `down` and quiet; no VM twice;
live-migration parameters and figures."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import libvirt
import pytest

from collectors.bulk_stats import POLL_DOMAINS
from ovtui.fleet import fleet as fleet_module
from ovtui.fleet import migration_ops
from ovtui.fleet.errors import FleetError
from ovtui.fleet.fleet import POWERED_OFF, Fleet, _without_stale_copies
from ovtui.model import VM, HostState, VmState
from ovtui.testdriver_fleet import FleetSpec
from tests.fleet.conftest import fleet_config


async def test_a_failed_poll_is_counted_and_the_host_stays_up(
    small_spec: FleetSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = fleet_config(small_spec, poll_interval_seconds=3600)
    errors: list[tuple[str, str, str]] = []
    fleet = Fleet(config, on_call_error=lambda *e: errors.append(e))
    await fleet.start()
    try:
        await fleet.wait_connected(10)
        name = config.hosts[0].name

        def broken(*_args: Any, **_kw: Any) -> None:
            err = libvirt.libvirtError("simulated: listing failed")
            # libvirtError takes the thread's last libvirt error: say which one this is
            err.err = (libvirt.VIR_ERR_INTERNAL_ERROR, 0, "simulated: listing failed", 0, "",
                       None, None, 0, 0)  # fmt: skip
            raise err

        monkeypatch.setattr(fleet_module, "read_host", broken)
        with pytest.raises(FleetError, match="simulated"):
            await fleet.refresh(name)
        assert errors == [(name, POLL_DOMAINS, "hypervisor")]
        # the connection itself is fine (isAlive), so the host is not marked lost
        assert fleet.links[name].state == HostState.UP
    finally:
        await fleet.stop()


async def test_a_host_powered_off_on_purpose_is_down_and_logged_quietly(
    small_spec: FleetSpec, caplog: pytest.LogCaptureFixture
) -> None:
    config = fleet_config(small_spec, connect_backoff_max_seconds=1.0)
    parked, off, crashed = (h.name for h in config.hosts[:3])
    Path(unquote(config.hosts[1].uri.removeprefix("test://"))).unlink()
    powered_off = {off}
    fleet = Fleet(config, powered_off=lambda h: h in powered_off)
    await fleet.start()
    try:
        await fleet.wait_connected(10)

        def state(host: str) -> tuple[HostState, str]:
            found = fleet.snapshot().host(host)
            assert found is not None
            return found.state, found.state_reason

        assert state(off) == (HostState.DOWN, POWERED_OFF)  # not answering since start-up
        with caplog.at_level(logging.INFO, logger="ovtui.fleet.host_link"):
            fleet.links[crashed].mark_lost("simulated crash")
            powered_off.add(parked)
            fleet.links[parked].mark_lost("switched off by power saving")
        assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
            (logging.WARNING, f"host {crashed} lost: simulated crash"),
            (
                logging.INFO,
                f"host {parked} is powered off (power management): switched off by power saving",
            ),
        ]
        assert state(crashed) == (HostState.NON_RESPONSIVE, "simulated crash")
        assert state(parked) == (HostState.DOWN, POWERED_OFF)
    finally:
        await fleet.stop()


def _vm(uuid: str, host: str, state: VmState) -> VM:
    return VM(uuid, f"vm-{uuid}", host, "c", "dc", state, 1, 128)


def test_a_vm_seen_on_a_reachable_host_is_not_listed_again_from_a_stale_one() -> None:
    vms = [
        _vm("a", "h1", VmState.RUNNING),
        _vm("a", "h3", VmState.UNKNOWN),  # h3 died while a was arriving there
        _vm("b", "h3", VmState.UNKNOWN),  # only h3 had b: still shown, as unknown
        _vm("c", "h2", VmState.SHUTOFF),
    ]
    kept = _without_stale_copies(vms)
    assert [(v.uuid, v.host) for v in kept] == [("a", "h1"), ("b", "h3"), ("c", "h2")]


@pytest.mark.parametrize(
    ("uri", "listen"),
    [("tcp://127.0.0.1", "127.0.0.1"), ("tcp://[fd00::11]:49152", "fd00::11"),
     ("tcp://kvm-02.migration.example", "kvm-02.migration.example")],
)  # fmt: skip
def test_live_migration_listens_on_the_address_of_the_migration_uri(uri: str, listen: str) -> None:
    assert migration_ops.live_params(uri) == {
        libvirt.VIR_MIGRATE_PARAM_URI: uri,
        libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS: listen,
    }
    assert migration_ops.live_params(None) == {}


def test_job_figures_from_completed_job_statistics() -> None:
    # measured on the lab: what the target returns for a completed migration
    stats = {"operation": 4, "time_elapsed": 572, "downtime": 99, "data_processed": 63318214}
    assert migration_ops.job_figures(stats) == {
        "downtime_ms": 99,
        "job_ms": 572,
        "transferred_mib": 60.4,
    }
    assert migration_ops.job_figures({}) == {}
