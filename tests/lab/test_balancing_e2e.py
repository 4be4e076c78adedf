"""End to end on the real lab: a hot host, the balancing job, a real live migration, cooler host.

Two lab hosts (libvirtd + QEMU guests on this machine, 2 CPUs each in the config): vm1 and vm3
run on h1, vm2 on h2. Busy loops in vm1 and vm3 make h1 hot (~100% of its 2 CPUs, measured from
the guests' CPU time by the engine). The engine runs in-process with the lab's own config, the
cluster switched to automatic with a short duration and interval, and nothing is called by
hand: the scheduled balancing job has to notice h1 (for CpuOverCommitDurationMinutes), plan,
and move one guest live; then h1's measured CPU has to fall below HighUtilization.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from ovtui.config import Config, load_config
from ovtui.engine import Engine
from ovtui.lab import Lab
from tests.lab.conftest import lab_up

pytestmark = pytest.mark.slow
# Two busy single-vCPU guests on a 2-CPU host measure 80-95% on a shared 2-core machine (TCG,
# everything else runs there too), so the threshold sits clearly below that: 60%.
HIGH = 0.6


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    yield from lab_up(hosts=2, guests=3)


def _automatic(config: Config) -> Config:
    (cluster,) = config.clusters
    sched = cluster.scheduling.model_copy(
        update={
            "mode": "automatic",
            "balance_interval_seconds": 10,
            "params": {"HighUtilization": 60, "CpuOverCommitDurationMinutes": 0.25},
        }
    )
    return config.model_copy(
        update={
            "clusters": [cluster.model_copy(update={"scheduling": sched})],
            "exporter": config.exporter.model_copy(update={"listen": None}),
        }
    )


async def _until(check, timeout: float, what: str, engine: Engine):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        await asyncio.sleep(0.5)
    snap = engine.snapshot()
    loads = {h.name: (h.state.value, h.cpu_usage) for h in snap.hosts}
    latest = engine.policies.plans.latest("lab") or {}
    raise AssertionError(
        f"{what} not seen within {timeout:.0f} s; hosts {loads}; jobs "
        f"{engine.policies.scheduler.status('lab')}; latest plan "
        f"{latest.get('status')}: {latest.get('plan', {}).get('summary')} "
        f"{latest.get('plan', {}).get('notes')}; migrations {engine.migrations.tail(3)}"
    )


async def test_the_balancing_job_moves_a_guest_live_off_a_hot_host(lab: Lab) -> None:
    assert {g.name: g.host for g in lab.status().guests} == {"vm1": "h1", "vm2": "h2", "vm3": "h1"}
    config = _automatic(load_config(lab.config_path))
    lab.set_load("vm1", 1)
    lab.set_load("vm3", 1)
    engine = Engine(config)
    try:
        await engine.start()
        await engine.fleet.wait_connected(30)

        def h1_cpu() -> float | None:
            host = engine.snapshot().host("h1")
            return host.cpu_usage if host else None

        await _until(lambda: (h1_cpu() or 0) > HIGH, 60, "h1 above 60%", engine)
        moved = await _until(
            lambda: [r for r in engine.migrations.tail(5) if r["result"] == "succeeded"],
            120,
            "a migration by the balancing job",
            engine,
        )
        record = moved[0]
        assert record["actor"] == "policy:balance:lab" and record["source"] == "h1"
        assert record["mode"] == "live" and record["target"] == "h2"
        assert record["vm"] in {"vm1", "vm3"}
        plan = engine.policies.plans.latest("lab")
        assert plan is not None and plan["status"] == "applied"
        (step,) = plan["plan"]["steps"]
        assert step["reason"].startswith("h1 CPU ") and "> 60%" in step["reason"]
        assert plan["plan"]["after"]["h1"]["cpu"] <= HIGH
        # the measured load follows the prediction
        await _until(lambda: (h1_cpu() or 1) < HIGH, 60, "h1 measured below 60%", engine)
        audit = [r for r in engine.audit_log.tail(20) if r["actor"] == "policy:balance:lab"]
        assert [r["action"] for r in audit] == ["vm.migrate", "policy.apply"]
        assert lab.host_of(record["vm"]) == "h2"
    finally:
        await engine.stop()
        for guest in ("vm1", "vm3"):
            lab.set_load(guest, 0)
