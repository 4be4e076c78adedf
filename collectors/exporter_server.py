"""The exporter's HTTP server: /metrics on its own address, next to the engine's API.

Scrapes are answered on server threads, never on the engine's event loop: a thread asks the loop
for the snapshot and the hosts' statistics (every host in parallel, each through its own link),
then formats the text itself (collectors.text_format formats about three times faster than
prometheus_client's encoder, measured alone on 110 000 samples), so a 20 000-VM scrape does not
stall the engine. Responses are gzipped when the scraper asks (Prometheus does); families whose
text did not change since the last scrape keep their compressed form (collectors.gzip_text).

One trip to the loop per scrape: it starts before the engine's own families are formatted (so the
loop gathers while this thread writes), and it also builds what other collectors need from the
loop (`build_on_loop`; the engine's storage families), in the same turn as the snapshot. Each
trip is a wait for a busy loop and then for the GIL: a second one per scrape (the storage
collector's own) was ~0.2 s of a 500-host scrape's wall time (cProfile of the scrape thread).

The wait for hosts follows Prometheus's own ``X-Prometheus-Scrape-Timeout-Seconds`` header (three
quarters of it, leaving time to format and send), so a slow host shows up as
``ovtui_host_scrape_up 0`` and the scrape still answers in time.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client.exposition import ThreadingWSGIServer

from collectors.engine_metrics import EngineMetrics
from collectors.fleet_collector import DEFAULT_BUDGET, FleetCollector, ScrapeInput
from collectors.gzip_text import GzipText
from collectors.stats_cache import HostScrape, StatsCache, StatsLink
from collectors.text_format import CONTENT_TYPE, render_parts
from ovtui.model import Snapshot

log = logging.getLogger("ovtui.exporter")
StartResponse = Callable[..., Any]
TIMEOUT_HEADER = "HTTP_X_PROMETHEUS_SCRAPE_TIMEOUT_SECONDS"
INDEX = b"ovtui exporter: metrics at /metrics\n"


_END = object()  # every host's statistics have arrived


def _next(arrivals: queue.SimpleQueue[object], deadline: float) -> object:
    try:
        found = arrivals.get(timeout=max(0.0, deadline - time.monotonic()))
    except queue.Empty:
        raise TimeoutError("the engine did not hand over the scrape's inputs in time") from None
    if isinstance(found, BaseException):
        raise found
    return found


class _Trip:
    """One scrape's hand-over from the loop: the snapshot and what `build_on_loop` built first,
    then the hosts' statistics in batches."""

    def __init__(self, arrivals: queue.SimpleQueue[object], deadline: float) -> None:
        self.arrivals, self.deadline = arrivals, deadline
        self._first: tuple[Snapshot, dict[str, object]] | None = None

    def first(self) -> tuple[Snapshot, dict[str, object]]:
        if self._first is None:
            found = _next(self.arrivals, self.deadline)
            assert isinstance(found, tuple)
            self._first = found
        return self._first


class FleetView(Protocol):
    """What the exporter reads of the fleet (ovtui.fleet.fleet.Fleet fits)."""

    @property
    def links(self) -> Mapping[str, StatsLink]: ...

    def snapshot(self) -> Snapshot: ...


class ExporterError(OSError):
    """The exporter could not start (its address is taken or invalid)."""


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Exporter:
    def __init__(
        self,
        fleet: FleetView,
        metrics: EngineMetrics,
        *,
        call_timeout: float = 10.0,
        max_age: float = 5.0,
        stale_limit: float = 60.0,
    ) -> None:
        self.fleet, self.metrics = fleet, metrics
        self.max_budget = max(0.5, call_timeout)
        self.cache = StatsCache(
            fleet.links,
            max_age=max_age,
            stale_limit=stale_limit,
            call_timeout=call_timeout,
            on_error=metrics.libvirt_error,
        )
        self._budget = threading.local()  # .value: this scrape's budget; .trip: its _Trip
        self._on_loop: dict[str, Callable[[], object]] = {}
        self._gzip = GzipText()
        self.collector = FleetCollector(self._inputs, self._scrape_budget)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None
        for name in fleet.links:
            metrics.declare_host(name)
        for c in fleet.snapshot().clusters:
            if c.scheduling_policy != "none":
                metrics.plans.declare(c.name, c.scheduling_policy)

    @property
    def port(self) -> int | None:
        return int(self._server.server_port) if self._server else None

    def start(self, host: str, port: int) -> None:
        """Binds exactly host:port (port 0: any free one) and serves on a thread."""
        self._loop = asyncio.get_running_loop()
        family, _, _, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]

        class Server(ThreadingWSGIServer):
            address_family = family

        self.metrics.registry.register(self.collector)
        try:
            self._server = make_server(
                str(address[0]), port, self._app(), Server, handler_class=_Quiet
            )
        except OSError as exc:
            self.metrics.registry.unregister(self.collector)
            raise ExporterError(
                f"the exporter cannot listen on {host}:{port}: {exc.strerror or exc}; "
                "set [exporter] listen in ovtui.toml to a free address"
            ) from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="exporter", daemon=True
        )
        self._thread.start()
        log.info("exporter serving /metrics on %s port %d", address[0], self.port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await asyncio.to_thread(server.shutdown)
            server.server_close()
            self.metrics.registry.unregister(self.collector)
        await self.cache.close()

    def build_on_loop(self, name: str, build: Callable[[], object]) -> None:
        """`build()` runs on the engine's loop once per scrape, in the turn that hands over the
        snapshot; a collector reads its result on the scrape's thread with `built(name)`."""
        self._on_loop[name] = build

    def built(self, name: str) -> object | None:
        """This scrape's `build_on_loop(name)` result, asked on a scrape's thread; None
        anywhere else (the caller then reads as it would without the exporter)."""
        trip = getattr(self._budget, "trip", None)
        return trip.first()[1].get(name) if trip is not None else None

    # -- scrape threads ------------------------------------------------------------------------
    def _scrape_budget(self) -> float:
        return float(getattr(self._budget, "value", DEFAULT_BUDGET))

    def _start(self, budget: float) -> _Trip:
        if self._loop is None:
            raise RuntimeError("exporter not started")
        arrivals: queue.SimpleQueue[object] = queue.SimpleQueue()
        trip = _Trip(arrivals, time.monotonic() + budget + 5.0)
        asyncio.run_coroutine_threadsafe(self._gather(budget, arrivals), self._loop)
        return trip

    def _inputs(self, budget: float) -> ScrapeInput:
        """The snapshot now, and the hosts' statistics as each arrives: this thread writes
        the hosts that answered while the loop waits for the others."""
        trip = getattr(self._budget, "trip", None) or self._start(budget)
        self._budget.trip = None  # the statistics are read once per trip
        snapshot, _built = trip.first()

        def arriving() -> Iterator[HostScrape]:
            while (found := _next(trip.arrivals, trip.deadline)) is not _END:
                assert isinstance(found, list)
                yield from found

        return ScrapeInput(snapshot, arriving=arriving(), order=tuple(self.fleet.links))

    async def _gather(self, budget: float, arrivals: queue.SimpleQueue[object]) -> None:
        try:
            built = {name: build() for name, build in self._on_loop.items()}
            arrivals.put((self.fleet.snapshot(), built))
            async for batch in self.cache.scrape_each(budget):
                arrivals.put(batch)  # one hand-over per batch, not per host
            arrivals.put(_END)
        except Exception as exc:  # the scrape answers 503 with it
            arrivals.put(exc)

    def _app(self) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
        def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "/")
            if path == "/":
                start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
                return [INDEX]
            if path != "/metrics":
                start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
                return [b"not found; metrics are at /metrics\n"]
            budget = self._budget.value = self._budget_from(environ.get(TIMEOUT_HEADER))
            try:
                # The loop's trip begins now: it gathers while this thread formats.
                self._budget.trip = self._start(budget) if self._loop is not None else None
                parts = render_parts(self.metrics.registry)
            except Exception as exc:
                log.warning("scrape failed: %s", exc, exc_info=True)
                start_response(
                    "503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8")]
                )
                return [f"scrape failed: {exc}\n".encode()]
            finally:
                self._budget.trip = None  # never handed to another request on this thread
            headers = [("Content-Type", CONTENT_TYPE)]
            if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
                body = self._gzip.compress(parts)  # 6x smaller; unchanged families not redone
                headers.append(("Content-Encoding", "gzip"))
            else:
                body = "".join([text for _key, text in parts]).encode()
            start_response("200 OK", headers)
            return [body]

        return app

    def _budget_from(self, header: str | None) -> float:
        try:
            timeout = float(header) if header else DEFAULT_BUDGET / 0.75
        except ValueError:
            timeout = DEFAULT_BUDGET / 0.75
        return min(self.max_budget, max(0.5, timeout * 0.75))
