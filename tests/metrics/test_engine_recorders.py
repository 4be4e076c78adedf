"""The engine's recorders: migrations, jobs, plans, libvirt errors and the API middleware."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, HTTPException

from collectors.engine_metrics import EngineMetrics
from ovtui.api.metrics_middleware import MetricsMiddleware
from ovtui.fleet.errors import FleetError


@pytest.fixture
def metrics() -> EngineMetrics:
    return EngineMetrics()  # its own fresh CollectorRegistry


def test_migration_success_records_mode_duration_and_cold_downtime(metrics) -> None:
    get = metrics.registry.get_sample_value
    with metrics.migrations.attempt() as attempt:
        assert get("ovtui_migrations_in_progress") == 1
        attempt.succeeded({"mode": "cold", "seconds": 1.5})
    with metrics.migrations.attempt() as attempt:
        attempt.succeeded({"mode": "live", "seconds": 2.0, "downtime_ms": 60})
    assert get("ovtui_migrations_started_total") == 2
    assert get("ovtui_migrations_in_progress") == 0
    assert get("ovtui_migrations_succeeded_total", {"mode": "cold"}) == 1
    assert get("ovtui_migration_duration_seconds_sum", {"mode": "cold"}) == 1.5
    # a cold move restarts the VM: its whole duration counts as downtime (an upper bound)
    assert get("ovtui_migration_downtime_seconds_sum", {"mode": "cold"}) == 1.5
    assert get("ovtui_migration_downtime_seconds_sum", {"mode": "live"}) == 0.06
    assert get("ovtui_migration_downtime_seconds_count", {"mode": "live"}) == 1


def test_migration_failure_is_counted_by_error_kind_and_still_raised(metrics) -> None:
    get = metrics.registry.get_sample_value
    assert get("ovtui_migrations_failed_total", {"kind": "timeout"}) == 0  # pre-created
    with pytest.raises(FleetError), metrics.migrations.attempt():
        raise FleetError("no answer", kind="timeout")
    with pytest.raises(RuntimeError), metrics.migrations.attempt():
        raise RuntimeError("bug")
    assert get("ovtui_migrations_failed_total", {"kind": "timeout"}) == 1
    assert get("ovtui_migrations_failed_total", {"kind": "error"}) == 1
    assert get("ovtui_migrations_in_progress") == 0
    assert get("ovtui_migrations_succeeded_total", {"mode": "live"}) == 0


def test_jobs_are_counted_by_result_with_duration_and_last_success(metrics) -> None:
    get = metrics.registry.get_sample_value
    metrics.jobs.declare("balance-prod-a")
    labels = {"job": "balance-prod-a", "kind": "policy"}
    assert get("ovtui_job_runs_total", {**labels, "result": "failed"}) == 0
    with metrics.jobs.track("balance-prod-a"):
        pass
    with pytest.raises(ValueError), metrics.jobs.track("balance-prod-a"):
        raise ValueError("no plan")
    assert get("ovtui_job_runs_total", {**labels, "result": "succeeded"}) == 1
    assert get("ovtui_job_runs_total", {**labels, "result": "failed"}) == 1
    assert get("ovtui_job_duration_seconds_count", labels) == 2
    assert get("ovtui_job_last_success_timestamp_seconds", labels) > 1.7e9
    assert get("ovtui_jobs_running", labels) == 0


def test_plan_rounds_keep_the_last_round_and_a_histogram_of_migrations(metrics) -> None:
    get = metrics.registry.get_sample_value
    plan = {"cluster": "prod-a", "policy": "evenly_distributed"}
    metrics.plans.declare(**plan)
    assert get("ovtui_plan_rounds_total", plan) == 0
    metrics.plans.record(**plan, imbalance_before=0.3, imbalance_after=0.1, hosts_released=0,
                         migrations=3)  # fmt: skip
    metrics.plans.record(**plan, imbalance_before=0.2, imbalance_after=0.05, hosts_released=1,
                         migrations=1)  # fmt: skip
    assert get("ovtui_plan_rounds_total", plan) == 2
    assert get("ovtui_plan_imbalance_before_ratio", plan) == 0.2
    assert get("ovtui_plan_imbalance_after_ratio", plan) == 0.05
    assert get("ovtui_plan_hosts_released", plan) == 1
    assert get("ovtui_plan_migrations", plan) == 1
    assert get("ovtui_plan_round_migrations_sum", plan) == 4
    assert get("ovtui_plan_round_migrations_bucket", {**plan, "le": "2.0"}) == 1


def test_libvirt_errors_and_build_info(metrics) -> None:
    metrics.libvirt_error("h1", "getAllDomainStats", "timeout")
    get = metrics.registry.get_sample_value
    labels = {"host": "h1", "call": "getAllDomainStats", "kind": "timeout"}
    assert get("ovtui_libvirt_call_errors_total", labels) == 1
    assert get("ovtui_build_info", {"version": __import__("ovtui").__version__}) == 1
    assert not [
        m for m in metrics.registry.collect() for s in m.samples if s.name.endswith("_created")
    ]


async def test_api_requests_are_labelled_by_route_template_never_by_raw_path(metrics) -> None:
    app = FastAPI()
    app.add_middleware(MetricsMiddleware, metrics=metrics.api)

    @app.get("/api/v1/vms/{vm}")
    async def one(vm: str) -> dict[str, str]:
        if vm == "missing":
            raise HTTPException(404, "no such VM")
        return {"vm": vm}

    @app.get("/api/v1/boom")
    async def boom() -> None:
        raise RuntimeError("bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for name in ("web-1", "web-2", "missing"):
            await client.get(f"/api/v1/vms/{name}")
        await client.get("/random/scan/path")
        await client.get("/api/v1/boom")
    get = metrics.registry.get_sample_value
    route = {"route": "/api/v1/vms/{vm}", "method": "GET"}
    assert get("ovtui_api_requests_total", {**route, "status": "200"}) == 2
    assert get("ovtui_api_requests_total", {**route, "status": "404"}) == 1
    assert get("ovtui_api_request_duration_seconds_count", {**route, "status": "200"}) == 2
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert get("ovtui_api_requests_total", unmatched) == 1
    crashed = {"route": "/api/v1/boom", "method": "GET", "status": "500"}
    assert get("ovtui_api_requests_total", crashed) == 1
    assert get("ovtui_api_requests_in_flight") == 0
    routes = {s.labels["route"] for m in metrics.registry.collect() for s in m.samples
              if s.name == "ovtui_api_requests_total"}  # fmt: skip
    assert not any("web-" in r or "scan" in r for r in routes)
