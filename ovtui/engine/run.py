"""`ovtui engine`: run the daemon until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Callable

from collectors.exporter_server import Exporter, ExporterError
from ovtui.api.app import create_app
from ovtui.api.server import ApiServers, ListenError
from ovtui.config.load import ConfigError
from ovtui.config.preflight import check_environment
from ovtui.config.schema import Config, parse_listen
from ovtui.engine.core import Engine
from ovtui.engine.gc_tuning import tune_gc
from ovtui.engine.sd_notify import notify
from ovtui.engine.standby import wait_to_lead, watch_leadership
from ovtui.store.errors import StoreError
from ovtui.store.state import open_postgres

log = logging.getLogger("ovtui.engine")


def synthetic_model_for(config: Config) -> Callable[[str, str, float], float] | None:
    if not any(h.load == "synthetic" for h in config.hosts):
        return None
    from collectors.synthetic_load import SyntheticLoad

    return SyntheticLoad().vm_cpu


def probe_listen(listen: str) -> None:
    """Binds and frees the exporter's address, so that a taken one is found before start-up.

    (The exporter itself can only bind once the fleet runs: it reads the fleet's first snapshot.)
    """
    host, port = parse_listen(listen)
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise ListenError(
            "exporter.listen",
            f"cannot listen on {listen}: {exc.strerror or exc}; stop what holds it or set "
            "exporter.listen to a free address",
        ) from None


def reopen_logs(engine: Engine) -> None:
    """SIGHUP (`systemctl reload`, after logrotate): events and migrations go to new files.

    The audit trail is never rotated: its hash chain and anchor cover the whole file.
    """
    for stream in (engine.events, engine.migrations):
        if stream.reopen():
            log.info("%s was rotated: writing a new file", stream.path)


async def run_engine(
    config: Config,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[Engine], None] | None = None,
) -> None:
    check_environment(config)  # before anything is created: files, group, secrets, socket
    tune_gc()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    started: list[Engine] = []

    def reopen() -> None:
        for e in started:
            reopen_logs(e)

    for sig, handler in ((signal.SIGTERM, stop.set), (signal.SIGINT, stop.set),
                         (signal.SIGHUP, reopen)):  # fmt: skip
        try:
            loop.add_signal_handler(sig, handler)
        except (RuntimeError, ValueError):
            pass  # not the main thread (tests): the caller sets `stop`
    state, database = None, None
    if config.engine.postgresql:
        from ovtui.store.pg_database import PgDatabase  # psycopg only here: ~80 ms of start-up

        database = await asyncio.to_thread(PgDatabase, config.engine.postgresql)
        try:
            if not await wait_to_lead(config, database, stop):
                return
            state = await asyncio.to_thread(open_postgres, database)
        except BaseException:
            database.close()
            raise
    try:
        engine = Engine(config, synthetic_load=synthetic_model_for(config), state=state)
    except BaseException:
        if state is not None:  # the engine closes only what it opened itself
            state.close()
        raise
    started.append(engine)
    lost = asyncio.Event()
    watchdog = None
    api: ApiServers | None = None
    exporter: Exporter | None = None
    try:
        if database is not None:
            interval = config.engine.standby_poll_seconds
            watchdog = asyncio.create_task(watch_leadership(database, interval, lost))
        api = ApiServers(create_app(engine), config.api)
        # Addresses first: one that is taken stops the engine before hosts or jobs start.
        try:
            api.bind()
            engine.api_tcp_port = api.tcp_port
            if config.exporter.listen:
                probe_listen(config.exporter.listen)
            await engine.start()
            timeout = config.engine.libvirt_call_timeout_seconds
            exporter = Exporter(engine.fleet, engine.metrics, call_timeout=timeout)
            engine.share_scrape_trip(exporter)
            await api.start()
            if config.exporter.listen:
                exporter.start(*parse_listen(config.exporter.listen))
                engine.exporter_port = exporter.port
        except ListenError as exc:
            raise ConfigError(f"{config.source}: {exc.key}: {exc.message}") from None
        except ExporterError as exc:
            raise ConfigError(f"{config.source}: exporter.listen: {exc}") from None
        log.info("engine ready: %d hosts, API on %s", len(config.hosts), config.api.socket)
        notify(f"READY=1\nSTATUS=serving {len(config.hosts)} hosts\nMAINPID={os.getpid()}")
        if on_ready:
            on_ready(engine)
        await _first(stop, lost)
        notify("STOPPING=1")
    finally:
        if watchdog is not None:
            watchdog.cancel()
        try:
            if exporter is not None:
                await exporter.stop()
            if api is not None:
                await api.stop()
        finally:  # its store and logs are closed even if a listener failed to stop
            await engine.stop()
    if lost.is_set():
        raise StoreError(
            "this engine lost the lead on the state database (another engine took over, or its "
            "session ended): it stopped so as never to act twice; it will start as a standby"
        )


async def _first(*events: asyncio.Event) -> None:
    waits = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
