"""A required bridge going down on a host: non_operational with the reason once the grace has
passed, its VMs evacuated (audited, by the networks principal) to hosts that have their
networks; an optional network missing only shows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from collectors.synthetic_load import SyntheticLoad
from ovtui.config import Config
from ovtui.engine import Engine
from ovtui.model import HostState, NetworkState
from ovtui.testdriver_fleet import ClusterSpec, DatacenterSpec, FleetSpec, HostSpec, VmSpec
from tests.networks.fleet import write_networked_fleet

NETWORKS = """
[networking]
missing_network_grace_seconds = 0.5

[[networks]]
name = "prod"
datacenter = "dc1"
bridge = "br-prod"
clusters = { c1 = "required" }

[[networks]]
name = "opt"
datacenter = "dc1"
bridge = "br-opt"
clusters = { c1 = "optional" }
"""


def _spec() -> FleetSpec:
    def host(name: str, vms: tuple[VmSpec, ...]) -> HostSpec:
        return HostSpec(name, "c1", 16, 65536, "Skylake-Server", 2400, vms)

    vms = (VmSpec("web-1", 2, 4096, "web"), VmSpec("web-2", 2, 4096, "web"))
    return FleetSpec(
        (DatacenterSpec("dc1"),),
        (ClusterSpec("c1", "dc1", "Skylake-Server"),),
        (host("h1", vms), host("h2", ()), host("h3", ())),
    )


@pytest.fixture
async def engine_for() -> AsyncIterator[Callable[[Config], Any]]:
    engines: list[Engine] = []

    async def make(config: Config) -> Engine:
        engine = Engine(config, synthetic_load=SyntheticLoad().vm_cpu)
        engines.append(engine)
        await engine.start()
        await engine.fleet.wait_connected(10)
        return engine

    yield make
    for e in engines:
        await e.stop()


async def _until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_a_required_bridge_down_makes_the_host_non_operational_and_empties_it(
    engine_for: Callable[[Config], Any],
) -> None:
    config = write_networked_fleet(
        _spec(),
        bridges={"h1": ["br-prod", "br-opt"], "h2": ["br-prod"], "h3": ["br-prod", "br-opt"]},
        nics={"web-1": ["br-prod", "br-opt"], "web-2": ["br-prod"]},
        networks_toml=NETWORKS,
        poll_interval_seconds=0.2,
    )
    engine: Engine = await engine_for(config)
    await _until(lambda: all(h.cpu_usage is not None for h in engine.snapshot().hosts))
    snap = engine.snapshot()
    h2 = snap.host("h2")
    assert h2 is not None and h2.state == HostState.UP  # an optional network missing: shown only
    assert {n.name: n.state for n in h2.networks} == {
        "prod": NetworkState.UP,
        "opt": NetworkState.MISSING,
    }
    assert [n.name for n in snap.networks] == ["prod", "opt"]

    await engine.fleet.links["h1"].call(
        lambda c: c.interfaceLookupByName("br-prod").destroy(), action="take br-prod down"
    )
    await _until(lambda: not engine.snapshot().vms_on("h1"))
    snap = engine.snapshot()
    h1 = snap.host("h1")
    assert h1 is not None and h1.state == HostState.NON_OPERATIONAL
    assert h1.state_reason.startswith("required network missing: prod (bridge 'br-prod' is down")
    # web-1 needs br-opt too: only h3 has it. web-2 may go anywhere with br-prod.
    placed = {v.name: v.host for v in snap.vms}
    assert placed["web-1"] == "h3" and placed["web-2"] in ("h2", "h3")

    # Moved once, by the HA resiliency policy (cluster resiliency "migrate"); the host is left
    # non-operational, not put into maintenance, as oVirt does.
    # audited once each move's call returns, which may be after its VM left h1
    def migrations() -> list[dict[str, Any]]:
        return [r for r in engine.audit_log if r.get("action") == "vm.migrate"]

    await _until(lambda: len(migrations()) >= 2)
    moved = migrations()
    assert sorted(r["target"].split("/")[1].split("@")[0] for r in moved) == ["web-1", "web-2"]
    assert {r["actor"] for r in moved} == {"system:ha"} and all(r["result"] == "ok" for r in moved)
    assert not [r for r in engine.audit_log if r.get("action") == "host.maintenance"]
    events = [e for e in engine.events if e.get("host") == "h1"]
    assert any(e["what"] == "non_operational" and "br-prod" in e["detail"] for e in events)
