"""The exporter in a running engine on a test-driver fleet: real scrapes, real API, real hooks."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from collectors.host_metrics import MEASURED_ONLY as HOST_MEASURED
from collectors.vm_metrics import MEASURED_ONLY as VM_MEASURED
from ovtui.model import HostState
from tests.conftest import API, LiveEngine, fleet_config, standard_spec
from tests.metrics.promtool import check_metrics, needs_promtool

CALL_TIMEOUT = 30.0  # libvirt calls of the engine below: what a scrape ignoring its budget waits


def scrape(live: LiveEngine, timeout: str | None = None) -> str:
    req = urllib.request.Request(f"http://127.0.0.1:{live.engine.exporter_port}/metrics")
    if timeout:
        req.add_header("X-Prometheus-Scrape-Timeout-Seconds", timeout)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.read().decode()


def sample_names(text: str) -> set[str]:
    return {line.split("{")[0].split()[0] for line in text.splitlines() if not line.startswith("#")}


def value(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return None


@pytest.fixture
def live(start_engine) -> LiveEngine:
    config = fleet_config(
        standard_spec(), poll_interval_seconds=3600, libvirt_call_timeout_seconds=CALL_TIMEOUT
    )
    config = config.model_copy(
        update={"exporter": config.exporter.model_copy(update={"listen": "127.0.0.1:0"})}
    )
    return start_engine(config=config)


@needs_promtool
def test_a_real_scrape_passes_promtool_check_metrics(live: LiveEngine) -> None:
    text = scrape(live)
    lint = check_metrics(text)
    assert lint.returncode == 0 and not lint.stdout.strip(), lint.stdout + lint.stderr


def test_the_test_driver_fleet_is_labelled_synthetic_and_has_no_measured_counters(
    live: LiveEngine,
) -> None:
    assert live.engine.exporter_port  # bound port exposed on the engine, like api_tcp_port
    text = scrape(live)
    for name in ("h1", "h2", "h3"):
        assert value(text, "ovtui_host_scrape_up", host=name) == 1.0
        assert value(text, "ovtui_host_up", host=name) == 1.0
    info = [line for line in text.splitlines() if line.startswith("ovtui_host_info{")]
    assert len(info) == 3 and all('load_source="synthetic"' in line for line in info)
    assert all('load_source="synthetic"' in line for line in text.splitlines()
               if line.startswith("ovtui_vm_info{"))  # fmt: skip
    # the test driver fakes node CPU counters and has no other statistics: none are exported
    assert not sample_names(text) & (HOST_MEASURED | VM_MEASURED)
    assert sample_names(text) >= {
        "ovtui_host_cpu_utilisation_ratio", "ovtui_vm_cpu_utilisation_ratio", "ovtui_vm_info",
        "ovtui_vm_state", "ovtui_host_memory_commitment_ratio", "ovtui_cluster_info",
    }  # fmt: skip


def test_migrations_and_api_requests_are_counted(live: LiveEngine) -> None:
    admin = live.as_role("SuperUser")
    resp = admin.post(f"{API}/vms/web-2/migrate", json={"target": "h2"})
    assert resp.status_code == 200, resp.text
    resp = admin.post(f"{API}/vms/web-1/migrate", json={"target": "h3"})  # another cluster
    assert resp.status_code == 409
    text = scrape(live)
    assert value(text, "ovtui_migrations_started_total") == 2.0
    assert value(text, "ovtui_migrations_succeeded_total", mode="cold") == 1.0
    assert value(text, "ovtui_migrations_failed_total", kind="conflict") == 1.0
    assert value(text, "ovtui_migration_duration_seconds_count", mode="cold") == 1.0
    assert value(text, "ovtui_migrations_in_progress") == 0.0
    route = {"method": "POST", "route": "/api/v1/vms/{vm}/migrate"}
    assert value(text, "ovtui_api_requests_total", **route, status="200") == 1.0
    assert value(text, "ovtui_api_requests_total", **route, status="409") == 1.0


class _Hung:
    def __init__(self, gate: threading.Event) -> None:
        self._gate = gate

    def __getattr__(self, _name: str) -> Any:
        return lambda *_a, **_k: self._gate.wait()


@pytest.fixture
def hung_h1(live: LiveEngine, monkeypatch) -> Iterator[threading.Event]:
    gate = threading.Event()
    # before the first scrape: no statistics are cached yet, so the scrape has to ask h1
    monkeypatch.setattr(live.engine.fleet.links["h1"], "conn", _Hung(gate))
    yield gate
    gate.set()


def test_a_hung_host_is_scrape_up_0_the_scrape_still_answers_and_the_host_stays_up(
    live: LiveEngine, hung_h1: threading.Event
) -> None:
    # h1's read never returns (until teardown) and would time out only after CALL_TIMEOUT: a
    # scrape that answers well before that did not wait for it. (Not a speed bound: the budget
    # is 3/4 of the 2 s scrape timeout, CALL_TIMEOUT 15 times more.)
    began = time.monotonic()
    text = scrape(live, timeout="2")
    assert time.monotonic() - began < CALL_TIMEOUT / 2
    assert value(text, "ovtui_host_scrape_up", host="h1") == 0.0
    assert value(text, "ovtui_host_scrape_up", host="h2") == 1.0
    assert value(text, "ovtui_host_cpus", host="h1") == 16  # inventory: from the snapshot
    # a slow statistics read says nothing about the connection: the host is not marked lost
    assert live.engine.fleet.links["h1"].state == HostState.UP
    # the next scrape joins the read still in flight (no second call stuck on h1's threads)
    began = time.monotonic()
    text = scrape(live, timeout="1")
    assert time.monotonic() - began < CALL_TIMEOUT / 2
    assert value(text, "ovtui_host_scrape_up", host="h1") == 0.0
    assert live.engine.fleet.links["h1"].state == HostState.UP


def test_the_storage_families_come_in_the_exporters_own_trip_to_the_loop(
    live: LiveEngine,
) -> None:
    assert live.engine.scrape_built is not None  # Engine.share_scrape_trip(exporter) in run.py
    text = scrape(live)
    assert value(text, "ovtui_disk_moves_started_total") == 0.0
    assert 'ovtui_host_scrape_up{host="' in text
