"""Host maintenance through the engine: evacuate, flag (persisted), refuse when stuck, activate."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from auth.principal import Principal
from collectors.synthetic_load import SyntheticLoad
from ovtui.config import load_config
from ovtui.engine import Engine
from ovtui.fleet.errors import FleetError
from ovtui.model import HostState
from ovtui.store import Store
from ovtui.testdriver_fleet import (
    ClusterSpec,
    DatacenterSpec,
    FleetSpec,
    HostSpec,
    VmSpec,
    write_fleet,
)

ADMIN = Principal("alice", frozenset({"ClusterAdmin"}))


def _spec(pinned: bool = False) -> FleetSpec:
    def host(name: str, vms: tuple[VmSpec, ...]) -> HostSpec:
        return HostSpec(name, "c1", 16, 65536, "Skylake-Server", 2400, vms)

    vms = (VmSpec("web-1", 2, 4096, "web"), VmSpec("web-2", 2, 4096, "web", pinned=pinned),
           VmSpec("off-1", 1, 2048, "web", running=False))  # fmt: skip
    return FleetSpec(
        (DatacenterSpec("dc1"),),
        (ClusterSpec("c1", "dc1", "Skylake-Server"),),
        (host("h1", vms), host("h2", ()), host("h3", (VmSpec("db-1", 4, 8192, "db"),))),
    )


@pytest.fixture
async def engine_for() -> AsyncIterator[object]:
    engines: list[Engine] = []

    async def make(spec: FleetSpec) -> Engine:
        config = load_config(write_fleet(spec, Path(tempfile.mkdtemp(prefix="ovt-"))))
        engine = Engine(config, synthetic_load=SyntheticLoad().vm_cpu)
        engines.append(engine)
        await engine.start()
        await engine.fleet.wait_connected(10)
        return engine

    yield make
    for e in engines:
        await e.stop()


async def _settle(engine: Engine) -> None:
    for name in engine.fleet.links:
        await engine.fleet.refresh(name)


async def test_maintenance_moves_running_vms_then_flags_the_host(engine_for) -> None:
    engine = await engine_for(_spec())
    result = await engine.enter_maintenance(ADMIN, "h1", "firmware update")
    assert result["result"] == "in maintenance"
    assert {m["vm"] for m in result["moved"]} == {"web-1", "web-2"}
    await _settle(engine)
    snap = engine.snapshot()
    h1 = snap.host("h1")
    assert h1 is not None and h1.state == HostState.MAINTENANCE and h1.vms_running == 0
    assert {v.name for v in snap.vms_on("h1")} == {"off-1"}  # shut-off VMs stay defined
    # the flag is in the store, so it survives an engine restart
    store_dir = engine.config.engine.store_dir
    assert engine.store.host_state("h1")["maintenance"] is True
    audit = [r["action"] for r in engine.audit_log.tail(10)]
    assert audit.count("vm.migrate") == 2 and audit[-1] == "host.maintenance"
    # a maintenance host is no longer a migration target
    web1 = snap.vms_named("web-1")[0]
    with pytest.raises(FleetError, match="maintenance"):
        await engine.migrate(ADMIN, web1, "h1")
    await engine.activate(ADMIN, "h1")
    assert engine.snapshot().host("h1").state == HostState.UP  # type: ignore[union-attr]
    await engine.stop()
    reopened = Store.open(store_dir)
    try:
        assert reopened.host_state("h1")["maintenance"] is False
    finally:
        reopened.close()


async def test_maintenance_refused_without_moving_anything_when_a_vm_is_pinned(engine_for) -> None:
    engine = await engine_for(_spec(pinned=True))
    with pytest.raises(FleetError) as info:
        await engine.enter_maintenance(ADMIN, "h1", "")
    assert (
        "web-2 is pinned to h1" in info.value.message and "nothing was moved" in info.value.message
    )
    await asyncio.sleep(0)
    await _settle(engine)
    assert engine.snapshot().host("h1").vms_running == 2  # type: ignore[union-attr]
    assert engine.audit_log.tail(1)[0]["result"] == "failed"
