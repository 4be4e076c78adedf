"""`ovtui engine`: run the daemon until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from collectors.exporter_server import Exporter
from ovtui.api.app import create_app
from ovtui.api.server import ApiServers
from ovtui.config.schema import Config, parse_listen
from ovtui.engine.core import Engine
from ovtui.engine.gc_tuning import tune_gc

log = logging.getLogger("ovtui.engine")


def synthetic_model_for(config: Config) -> Callable[[str, str, float], float] | None:
    if not any(h.load == "synthetic" for h in config.hosts):
        return None
    from collectors.synthetic_load import SyntheticLoad

    return SyntheticLoad().vm_cpu


async def run_engine(
    config: Config,
    *,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[Engine], None] | None = None,
) -> None:
    tune_gc()
    engine = Engine(config, synthetic_load=synthetic_model_for(config))
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (RuntimeError, ValueError):
            pass  # not the main thread (tests): the caller sets `stop`
    await engine.start()
    api = ApiServers(create_app(engine), config.api)
    timeout = config.engine.libvirt_call_timeout_seconds
    exporter = Exporter(engine.fleet, engine.metrics, call_timeout=timeout)
    try:
        await api.start()
        engine.api_tcp_port = api.tcp_port
        if config.exporter.listen:
            exporter.start(*parse_listen(config.exporter.listen))
            engine.exporter_port = exporter.port
        log.info("engine ready: %d hosts, API on %s", len(config.hosts), config.api.socket)
        if on_ready:
            on_ready(engine)
        await stop.wait()
    finally:
        await exporter.stop()
        await api.stop()
        await engine.stop()
