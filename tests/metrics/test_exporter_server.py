"""The exporter's HTTP server: exact bind address, /metrics only, Prometheus's timeout honoured."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator

import pytest

from collectors.engine_metrics import EngineMetrics
from collectors.exporter_server import Exporter, ExporterError
from tests.metrics.fakes import FakeConn, FakeLink, host, snapshot, vm


class FakeFleet:
    def __init__(self, links: dict[str, FakeLink]) -> None:
        self.links = links
        self._snap = snapshot([host(n) for n in links], [vm("web-1", "fast")])

    def snapshot(self):
        return self._snap


def _get(port: int, path: str = "/metrics", timeout_header: str | None = None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if timeout_header:
        req.add_header("X-Prometheus-Scrape-Timeout-Seconds", timeout_header)
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, "", err.read().decode()


@pytest.fixture
async def exporter() -> AsyncIterator[Exporter]:
    links = {
        "fast": FakeLink("fast", FakeConn({"uuid-web-1": {"state.state": 1, "cpu.time": 10**9}})),
        "slow": FakeLink("slow", FakeConn(), delay=30.0),
    }
    exp = Exporter(FakeFleet(links), EngineMetrics(), call_timeout=10.0)
    exp.start("127.0.0.1", 0)
    yield exp
    await exp.stop()


async def test_binds_exactly_the_configured_address_and_exposes_the_port(exporter) -> None:
    assert exporter.port and exporter.port > 0
    assert exporter._server is not None
    assert exporter._server.socket.getsockname()[0] == "127.0.0.1"
    status, _, body = await asyncio.to_thread(_get, exporter.port, "/")
    assert status == 200 and "/metrics" in body
    status, _, _ = await asyncio.to_thread(_get, exporter.port, "/nothing-here")
    assert status == 404


async def test_a_slow_host_is_down_and_the_scrape_answers_within_prometheus_timeout(
    exporter,
) -> None:
    began = time.monotonic()
    status, ctype, body = await asyncio.to_thread(_get, exporter.port, "/metrics", "1.0")
    took = time.monotonic() - began
    assert status == 200 and ctype.startswith("text/plain")
    # the slow host answers after 30 s: a scrape back well before did not wait for it (it waits
    # 3/4 of the 1 s scrape timeout; the bound is no speed requirement)
    assert took < 15, took
    assert 'ovtui_host_scrape_up{host="slow"} 0.0' in body
    assert 'ovtui_host_scrape_up{host="fast"} 1.0' in body
    assert 'ovtui_vm_cpu_seconds_total{uuid="uuid-web-1"} 1.0' in body
    assert "ovtui_migrations_started_total 0.0" in body  # engine metrics share the registry
    assert "process_resident_memory_bytes" in body


async def test_a_taken_port_is_an_error_and_stop_frees_the_port() -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    metrics = EngineMetrics()
    exp = Exporter(FakeFleet({}), metrics)
    try:
        with pytest.raises(
            ExporterError, match=r"cannot listen on 127\.0\.0\.1:\d+: .*\[exporter\]"
        ):
            exp.start("127.0.0.1", busy.getsockname()[1])
    finally:
        busy.close()
    exp.start("127.0.0.1", 0)
    port = exp.port
    assert port is not None
    await exp.stop()
    again = socket.socket()
    again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    again.bind(("127.0.0.1", port))  # free again
    again.close()


async def test_one_trip_to_the_loop_per_scrape_carries_what_other_collectors_build_there(
    monkeypatch,
) -> None:
    """Each trip waits for a busy loop and then for the GIL: the storage families' input comes
    in the exporter's own trip (built on the loop with the snapshot), not in one of its own."""
    from prometheus_client.core import GaugeMetricFamily

    links = {"fast": FakeLink("fast", FakeConn({"uuid-web-1": {"state.state": 1}}))}
    metrics = EngineMetrics()
    exp = Exporter(FakeFleet(links), metrics, call_timeout=10.0)
    loop_thread = threading.get_ident()
    built_on: list[int] = []

    def build() -> str:
        built_on.append(threading.get_ident())
        return f"built-{len(built_on)}"

    class Asks:  # registered before the exporter's collector, as the engine's storage one is
        def collect(self):
            value = exp.built("thing")
            yield GaugeMetricFamily("ovtui_test_built", str(value), value=1)

    metrics.registry.register(Asks())
    exp.build_on_loop("thing", build)
    trips: list[object] = []
    real = asyncio.run_coroutine_threadsafe
    monkeypatch.setattr(
        asyncio, "run_coroutine_threadsafe", lambda c, loop: trips.append(c) or real(c, loop)
    )
    exp.start("127.0.0.1", 0)
    try:
        for n in (1, 2):
            status, _, body = await asyncio.to_thread(_get, exp.port, "/metrics", "5")
            assert status == 200
            assert f"# HELP ovtui_test_built built-{n}\n" in body
            assert 'ovtui_host_scrape_up{host="fast"} 1.0' in body
            assert len(trips) == n and built_on == [loop_thread] * n
    finally:
        await exp.stop()
    assert exp.built("thing") is None  # outside a scrape: nothing (callers read as before)


def test_the_engine_takes_the_storage_input_from_the_exporters_trip() -> None:
    from types import SimpleNamespace

    from collectors.storage_metrics import StorageInput
    from ovtui.engine.core import Engine

    shared = StorageInput(moves_started=3)
    fake = SimpleNamespace(scrape_built=lambda name: shared if name == "storage" else None)
    assert Engine._storage_input(fake) is shared  # type: ignore[arg-type]
