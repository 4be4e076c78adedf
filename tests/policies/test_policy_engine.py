"""Policy jobs and the executor on an in-process engine with test-driver fleets (cold moves).

Load is the synthetic model: role "hot" VMs sit at 90-100%, "jump" VMs near 0%.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from auth.principal import Principal
from collectors.synthetic_load import SyntheticLoad
from ovtui.config import Config, load_config
from ovtui.config.schema import PowerConfig
from ovtui.engine import Engine
from ovtui.jobs.scheduler import CATCH_UP_SECONDS, TABLE
from ovtui.model import HostState
from ovtui.store import Store
from ovtui.testdriver_fleet import (
    ClusterSpec,
    DatacenterSpec,
    FleetSpec,
    HostSpec,
    VmSpec,
    demo_spec,
    write_fleet,
)
from policies.history import LoadHistory
from policies.plan import Plan, Step, StepKind

ADMIN = Principal("alice", frozenset({"ClusterAdmin"}))
SKY = "Skylake-Server"
MakeEngine = Callable[..., Awaitable[Engine]]
# The synthetic model follows the time of day; the demo-fleet expectations below hold for one
# frozen instant (2026-11-22 08:00 UTC), so the tests give the same plan whenever they run.
FROZEN_AT = 1795334400.0
WAIT = 30.0  # deadline for what the scheduler does by itself: generous, the machine is shared


async def _until(check: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, f"{what} not seen within {WAIT} s"
        await asyncio.sleep(0.02)


def frozen_load() -> Callable[[str, str, float], float]:
    model = SyntheticLoad()
    return lambda name, role, _t: model.vm_cpu(name, role, FROZEN_AT)


def _hot(prefix: str, n: int) -> tuple[VmSpec, ...]:
    return tuple(VmSpec(f"{prefix}-{i}", 2, 4096, "hot") for i in range(n))


def two_hot_hosts(mode: str = "recommend") -> FleetSpec:
    """h1 and h2 at ~93% (8 CPUs, 4 hot VMs of 2 vCPUs); h3 and h4 empty: a two-step plan."""
    params = MappingProxyType({"CpuOverCommitDurationMinutes": 0})
    return FleetSpec(
        (DatacenterSpec("dc1"),),
        (ClusterSpec("c1", "dc1", SKY, 150, "evenly_distributed", mode, params=params),),
        (
            HostSpec("h1", "c1", 8, 65536, SKY, 2400, _hot("a", 4)),
            HostSpec("h2", "c1", 8, 65536, SKY, 2400, _hot("b", 4)),
            HostSpec("h3", "c1", 16, 65536, SKY, 2400, ()),
            HostSpec("h4", "c1", 16, 65536, SKY, 2400, ()),
        ),
    )


def _scheduling(config: Config, cluster: str, **fields: Any) -> Config:
    clusters = [
        c.model_copy(update={"scheduling": c.scheduling.model_copy(update=fields)})
        if c.name == cluster
        else c
        for c in config.clusters
    ]
    return config.model_copy(update={"clusters": clusters})


def _power(config: Config, host: str, power: PowerConfig) -> Config:
    hosts = [h.model_copy(update={"power": power}) if h.name == host else h for h in config.hosts]
    return config.model_copy(update={"hosts": hosts})


@pytest.fixture
async def engine_for() -> AsyncIterator[MakeEngine]:
    engines: list[Engine] = []

    async def make(
        spec: FleetSpec | None = None,
        *,
        config: Config | None = None,
        tweak: Callable[[Config], Config] | None = None,
    ) -> Engine:
        if config is None:
            assert spec is not None
            config = load_config(write_fleet(spec, Path(tempfile.mkdtemp(prefix="ovt-"))))
        if tweak is not None:
            config = tweak(config)
        engine = Engine(config, synthetic_load=frozen_load())
        engines.append(engine)
        await engine.start()
        await engine.fleet.wait_connected(10)
        await settle(engine)
        return engine

    yield make
    for e in engines:
        await stop_or_explain(e)


async def stop_or_explain(engine: Engine, timeout: float = 30.0) -> None:
    """Stops the engine; a stop that hangs fails the test with every task's stack."""
    try:
        await asyncio.wait_for(engine.stop(), timeout)
    except TimeoutError:
        import io

        out = io.StringIO()
        for task in asyncio.all_tasks():
            task.print_stack(file=out)
        raise AssertionError(f"engine.stop() hung for {timeout:.0f} s:\n{out.getvalue()}") from None


async def settle(engine: Engine) -> None:
    for name, link in engine.fleet.links.items():
        if link.state == HostState.UP:
            await engine.fleet.refresh(name)


def hot_for(engine: Engine, minutes: float = 3.0) -> None:
    """As if every host had shown its current CPU for `minutes` (the sampler's history)."""
    snap, now = engine.snapshot(), time.time()
    history = LoadHistory(retain_seconds=3600)
    for back in range(int(minutes * 60), -1, -30):
        history = history.add(now - back, {h.name: h.cpu_usage for h in snap.hosts})
    engine.policies.history = history


def host_of(engine: Engine, vm: str) -> str:
    return engine.snapshot().vms_named(vm)[0].host


# -- modes ------------------------------------------------------------------------------------


async def test_recommend_mode_stores_a_plan_with_reasons_and_moves_nothing(engine_for) -> None:
    engine = await engine_for(demo_spec())
    hot_for(engine)
    before = {v.name: v.host for v in engine.snapshot().vms}
    result = await engine.policies.run_job("prod-a", "balance", "test")
    assert result["result"].startswith("recommend: prod-a: 1 migration")
    doc = engine.policies.plans.latest("prod-a")
    assert doc is not None and doc["id"] == result["plan"] and doc["status"] == "recommended"
    plan = engine.policies.plans.plan(doc)
    (step,) = plan.steps
    assert step.host == "kvm-a04" and step.reason.startswith("kvm-a04 CPU ")
    assert "for 3.0 min > 80%" in step.reason and "has the most headroom" in step.reason
    assert plan.before["kvm-a04"].cpu > 0.8 >= plan.after["kvm-a04"].cpu  # type: ignore[operator]
    await settle(engine)
    assert {v.name: v.host for v in engine.snapshot().vms} == before
    assert engine.migrations.last_seq == 0
    assert not [r for r in engine.audit_log.tail(50) if r["actor"].startswith("policy:")]
    # the round's figures reach the engine's Prometheus families
    labels = {"cluster": "prod-a", "policy": "evenly_distributed"}
    value = engine.metrics.registry.get_sample_value
    assert value("ovtui_plan_migrations", labels) == 1
    assert value("ovtui_plan_imbalance_before_ratio", labels) == plan.metrics.cpu_stddev_before
    assert engine.policies.recorder.last["prod-a"]["plan"] == plan.id


async def test_automatic_mode_moves_vms_and_the_hot_host_cools_down(engine_for) -> None:
    engine = await engine_for(demo_spec())
    hot_for(engine)
    engine.policies.set_mode("prod-a", "automatic")
    assert engine.store.get_setting("policy.mode.prod-a") == "automatic"
    result = await engine.policies.run_job("prod-a", "balance", "test")
    assert result["result"].startswith("automatic: applied: prod-a: 1 migration")
    plan = engine.policies.plans.plan(engine.policies.plans.latest("prod-a"))  # type: ignore[arg-type]
    (step,) = plan.steps
    assert plan.after["kvm-a04"].cpu < 0.8  # type: ignore[operator]
    await settle(engine)
    assert host_of(engine, step.vm_name) == step.target
    measured = engine.snapshot().host("kvm-a04")
    assert measured is not None and measured.cpu_usage is not None and measured.cpu_usage < 0.8
    (moved,) = engine.migrations.tail(5)
    assert (moved["vm"], moved["result"], moved["mode"]) == (step.vm_name, "succeeded", "cold")
    assert moved["actor"] == "policy:balance:prod-a"
    audit = engine.audit_log.tail(5)
    assert [(r["actor"], r["actor_source"], r["action"], r["result"]) for r in audit[-2:]] == [
        ("policy:balance:prod-a", "system", "vm.migrate", "ok"),
        ("policy:balance:prod-a", "system", "policy.apply", "ok"),
    ]
    assert audit[-2]["source"] == f"plan:{plan.id}"
    # reset: back to the config's mode
    engine.policies.set_mode("prod-a", None)
    assert engine.policies.mode("prod-a") == "recommend"


async def test_mode_off_plans_nothing(engine_for) -> None:
    engine = await engine_for(two_hot_hosts())
    engine.policies.set_mode("c1", "off")
    assert (await engine.policies.run_job("c1", "balance"))["plan"] is None
    assert engine.policies.plans.latest("c1") is None


# -- applying ---------------------------------------------------------------------------------


async def test_one_step_then_the_rest(engine_for) -> None:
    engine = await engine_for(two_hot_hosts())
    await engine.policies.run_job("c1", "balance", "test")
    doc = engine.policies.plans.latest("c1")
    assert doc is not None and len(doc["plan"]["steps"]) == 2
    second = doc["plan"]["steps"][1]
    out = await engine.policies.apply("c1", ADMIN, step=1)
    assert out["status"] == "partial" and [s["status"] for s in out["steps"]] == ["done"]
    await settle(engine)
    assert host_of(engine, second["vm_name"]) == second["target"]
    stored = engine.policies.plans.get(doc["id"])
    assert stored is not None and stored["outcomes"][0] is None
    assert stored["outcomes"][1]["status"] == "done"
    audit = engine.audit_log.tail(1)[0]
    assert (
        audit["actor"] == "policy:balance:c1"
        and audit["source"] == f"plan:{doc['id']} approved by alice"
    )
    out = await engine.policies.apply("c1", ADMIN)
    assert out["status"] == "applied" and [s["index"] for s in out["steps"]] == [0]
    again = await engine.policies.apply("c1", ADMIN)
    assert again["result"] == f"nothing to apply: plan {doc['id']} is already applied"


async def test_a_plan_stops_when_its_premises_changed(engine_for) -> None:
    engine = await engine_for(two_hot_hosts())
    await engine.policies.run_job("c1", "balance", "test")
    doc = engine.policies.plans.latest("c1")
    assert doc is not None
    first = doc["plan"]["steps"][0]
    # someone moves the first step's VM meanwhile
    vm = engine.snapshot().vms_named(first["vm_name"])[0]
    elsewhere = next(h for h in ("h3", "h4") if h != first["target"])
    await engine.migrate(ADMIN, vm, elsewhere)
    await settle(engine)
    out = await engine.policies.apply("c1", ADMIN)
    assert out["status"] == "stopped"
    assert [s["status"] for s in out["steps"]] == ["stopped", "not_run"]
    assert f"now runs on {elsewhere}, not {first['host']}" in out["steps"][0]["detail"]
    assert out["stopped"].startswith("step 1 (migrate ")
    assert not [r for r in engine.migrations.tail(10) if r["actor"].startswith("policy:")]
    assert engine.policies.plans.get(doc["id"])["status"] == "stopped"  # type: ignore[index]


async def test_only_the_latest_plan_can_be_applied(engine_for) -> None:
    from ovtui.fleet.errors import FleetError

    engine = await engine_for(two_hot_hosts())
    first = await engine.policies.run_job("c1", "balance")
    # the same recommendation a round later keeps its id: what was reviewed can be applied
    assert (await engine.policies.run_job("c1", "balance"))["plan"] == first["plan"]
    # a different one supersedes it
    vm = engine.snapshot().vms_named("a-0")[0]
    await engine.migrate(ADMIN, vm, "h3")
    await settle(engine)
    second = await engine.policies.run_job("c1", "balance")
    assert second["plan"] != first["plan"]
    assert engine.policies.plans.get(first["plan"])["status"] == "superseded"  # type: ignore[index]
    with pytest.raises(FleetError, match="was superseded by plan"):
        await engine.policies.apply("c1", ADMIN, plan_id=first["plan"])
    with pytest.raises(LookupError):
        await engine.policies.apply("c1", ADMIN, plan_id="nope")


# -- power saving -----------------------------------------------------------------------------


def power_fleet() -> FleetSpec:
    params = MappingProxyType(
        {
            "CpuOverCommitDurationMinutes": 0,
            "HostsInReserve": 0,
            "ConsolidationMode": "low_utilization",
        }
    )
    jump = tuple(VmSpec(f"jump-{i}", 1, 2048, "jump") for i in range(2))
    return FleetSpec(
        (DatacenterSpec("dc1"),),
        (ClusterSpec("ps", "dc1", SKY, 150, "power_saving", "automatic", params=params),),
        (
            HostSpec("p1", "ps", 16, 65536, SKY, 2400, _hot("x", 2)),
            HostSpec("p2", "ps", 16, 65536, SKY, 2400, _hot("y", 2)),
            HostSpec("p3", "ps", 16, 65536, SKY, 2400, jump),
        ),
    )


def _marker_power(marker: Path) -> PowerConfig:
    def cmd(what: str) -> list[str]:
        code = (
            "import os, sys; open(sys.argv[1], 'a').write(os.environ['OVTUI_POWER_ACTION'] + "
            "'\\n'); print('chassis power', os.environ['OVTUI_POWER_ACTION'])"
        )
        return [sys.executable, "-c", code, str(marker)]

    return PowerConfig(kind="command", on=cmd("on"), off=cmd("off"))


async def test_power_saving_drains_releases_and_powers_off_then_a_host_comes_back(
    engine_for, tmp_path: Path
) -> None:
    marker = tmp_path / "power.log"
    engine = await engine_for(power_fleet(), tweak=lambda c: _power(c, "p3", _marker_power(marker)))
    result = await engine.policies.run_job("ps", "power_saving", "test")
    assert result["result"].startswith("automatic: applied: ps: 2 migrations; 1 host released")
    plan = engine.policies.plans.plan(engine.policies.plans.latest("ps"))  # type: ignore[arg-type]
    assert [(s.kind.value, s.host) for s in plan.steps] == [
        ("migrate", "p3"), ("migrate", "p3"), ("maintenance", "p3"), ("power_off", "p3")
    ]  # fmt: skip
    assert marker.read_text() == "off\n"
    state = engine.store.host_state("p3")
    assert state["maintenance"] is True and state["by"] == "policy:power_saving:ps"
    assert state["power"] == "off" and state["last_power_action"] > 0
    audit = engine.audit_log.tail(10)
    off = next(r for r in audit if r["action"] == "host.power_off")
    assert off["actor"] == "policy:power_saving:ps" and off["detail"].endswith("chassis power off")
    assert any(r["action"] == "host.maintenance" and r["actor"] == off["actor"] for r in audit)
    await settle(engine)
    assert engine.snapshot().host("p3").vms_running == 0  # type: ignore[union-attr]
    obs = engine.policies.observations(time.time())
    assert "p3" in obs.parked and "p3" in obs.last_power_action

    # a round later with HostsInReserve = 1: the parked host comes back (power on, activate)
    wake = Plan(
        "ps", "power_saving", "power_saving", time.time(), "wake p3",
        steps=(Step(StepKind.POWER_ON, "p3", "reserve short"),
               Step(StepKind.ACTIVATE, "p3", "reserve short")),
    )  # fmt: skip
    engine.policies.plans.save(wake, mode="recommend", trigger="test")
    out = await engine.policies.apply("ps", ADMIN)
    assert out["status"] == "applied", out
    assert marker.read_text() == "off\non\n"
    assert engine.store.host_state("p3")["maintenance"] is False
    assert engine.snapshot().host("p3").state == HostState.UP  # type: ignore[union-attr]


async def test_power_saving_without_power_management_leaves_the_host_in_maintenance(
    engine_for,
) -> None:
    engine = await engine_for(power_fleet())
    engine.policies.set_mode("ps", "recommend")
    await engine.policies.run_job("ps", "power_saving", "test")
    plan = engine.policies.plans.plan(engine.policies.plans.latest("ps"))  # type: ignore[arg-type]
    assert [s.kind.value for s in plan.steps] == ["migrate", "migrate", "maintenance"]
    assert plan.steps[-1].reason.endswith("no power management: host left in maintenance")


# -- jobs -------------------------------------------------------------------------------------


async def test_a_job_never_overlaps_itself(engine_for) -> None:
    engine = await engine_for(two_hot_hosts())
    service, sched = engine.policies, engine.policies.scheduler.scheduler
    assert sched is not None
    job = sched.get_job("balance:c1")
    assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, 60)
    release, started, calls = asyncio.Event(), asyncio.Event(), []

    async def slow(cluster: str, kind: str, trigger: str = "") -> dict[str, Any]:
        calls.append(kind)
        started.set()
        await release.wait()
        return {"result": "done", "plan": None}

    service.run_job = slow  # type: ignore[method-assign]
    job.modify(next_run_time=datetime.now(sched.timezone))
    await asyncio.wait_for(started.wait(), WAIT)
    job.modify(next_run_time=datetime.now(sched.timezone))
    await _until(lambda: service.scheduler.state("balance:c1").get("skipped"), "the skip")
    assert calls == ["balance"]
    st = service.scheduler.state("balance:c1")
    assert st["skipped"] == 1 and st["last_skip"]["why"] == "the previous run was still going"
    assert service.scheduler.status("c1")[0]["running"] is True
    release.set()
    await _until(lambda: not service.scheduler.status("c1")[0]["running"], "the run's end")
    assert service.scheduler.state("balance:c1")["last_result"] == "done"


async def test_a_round_is_skipped_while_another_holds_the_cluster(engine_for) -> None:
    engine = await engine_for(two_hot_hosts())
    service = engine.policies
    async with service._lock("c1"):
        service._holder["c1"] = "an apply by bob"
        out = await service.run_job("c1", "balance")
    assert out == {"result": "skipped: an apply by bob is still running on c1", "plan": None}


async def test_restart_keeps_the_schedule_state(engine_for) -> None:
    config = load_config(write_fleet(two_hot_hosts(), Path(tempfile.mkdtemp(prefix="ovt-"))))
    config = _scheduling(config, "c1", balance_interval_seconds=600)
    began = time.time()
    first = await engine_for(config=config)
    due = first.policies.scheduler.next_run("balance:c1")
    # one interval after the scheduler started, which was while engine_for ran
    assert due is not None and began + 600 - 0.01 <= due <= time.time() + 600 + 0.01
    await first.policies.scheduler._fire("balance:c1")
    runs = {"job": "balance:c1", "kind": "policy", "result": "succeeded"}
    assert first.metrics.registry.get_sample_value("ovtui_job_runs_total", runs) == 1
    await first.stop()

    await asyncio.sleep(1.1)  # a fresh schedule would now be a second later
    second = await engine_for(config=config)
    assert second.policies.scheduler.next_run("balance:c1") == pytest.approx(due, abs=0.01)
    (status,) = second.policies.scheduler.status("c1")
    assert status["last_result"].startswith("recommend: c1: 2 migrations")
    assert status["last_plan"] == second.policies.plans.latest("c1")["id"]  # type: ignore[index]
    await second.stop()

    # the engine was down when the run fell due: it runs once, soon after the start
    store = Store.open(config.engine.store_dir)
    try:
        store.table(TABLE).update({"next_run": time.time() - 3600})
    finally:
        store.close()
    began = time.time()
    third = await engine_for(config=config)
    soon = third.policies.scheduler.next_run("balance:c1")
    assert soon is not None
    assert began + CATCH_UP_SECONDS - 0.01 <= soon <= time.time() + CATCH_UP_SECONDS + 0.01


async def test_the_sampler_builds_the_history(engine_for) -> None:
    engine = await engine_for(two_hot_hosts())
    engine.policies.sample()
    engine.policies.sample()
    assert len(engine.policies.history.of("h1")) >= 2
    assert engine.policies.scheduler.scheduler.get_job("sample-load") is not None  # type: ignore[union-attr]
