"""Serving the API inside the engine's event loop: a Unix socket (0660) and optional TCP+TLS."""

from __future__ import annotations

import asyncio
import contextlib
import grp
import os
import socket
from collections.abc import Generator
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from ovtui.config.schema import ApiSection, parse_listen


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the engine handles SIGTERM/SIGINT itself and stops every server in order


def bind_unix_socket(path: Path, mode: int, group: str | None) -> socket.socket:
    """Binds with the final mode from the start (uvicorn would chmod a new socket to 0666)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a socket left by a killed engine
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o777 & ~mode)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, mode)
    if group:
        os.chown(path, -1, grp.getgrnam(group).gr_gid)
    sock.listen(128)
    return sock


class ApiServers:
    def __init__(self, app: FastAPI, cfg: ApiSection) -> None:
        self.app, self.cfg = app, cfg
        self._servers: list[tuple[_Server, list[socket.socket] | None]] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        cfg = self.cfg
        sock = bind_unix_socket(Path(cfg.socket), int(cfg.socket_mode, 8), cfg.socket_group)
        self._add(uvicorn.Config(self.app, log_level="warning", lifespan="off"), [sock])
        if cfg.tcp:
            host, port = parse_listen(cfg.tcp)
            tls = uvicorn.Config(
                self.app,
                host=host,
                port=port,
                log_level="warning",
                lifespan="off",
                ssl_certfile=str(cfg.tls_cert),
                ssl_keyfile=str(cfg.tls_key),
            )
            self._add(tls, None)
        for server, socks in self._servers:
            self._tasks.append(asyncio.create_task(server.serve(sockets=socks)))
        while not all(s.started for s, _ in self._servers):
            if any(t.done() for t in self._tasks):
                await asyncio.gather(*self._tasks)  # surfaces the bind error
                raise RuntimeError("API server stopped during start-up")
            await asyncio.sleep(0.01)

    def _add(self, config: uvicorn.Config, socks: list[socket.socket] | None) -> None:
        self._servers.append((_Server(config), socks))

    @property
    def tcp_port(self) -> int | None:
        for server, socks in self._servers:
            if socks is None and server.servers:
                return int(server.servers[0].sockets[0].getsockname()[1])
        return None

    async def stop(self) -> None:
        for server, _ in self._servers:
            server.should_exit = True
        # uvicorn closes idle keep-alive connections; over TLS that waits for the client's
        # close_notify, which an idle client (the oVirt SDK, httpx) never sends, so asyncio would
        # wait its 30 s ssl_shutdown_timeout. Cut those (already closing) at once; connections
        # still answering a request are not closing and finish as before.
        while not all(t.done() for t in self._tasks):
            for server, _ in self._servers:
                for conn in list(server.server_state.connections):
                    transport = getattr(conn, "transport", None)
                    if transport is not None and transport.is_closing():
                        transport.abort()
            await asyncio.sleep(0.05)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(FileNotFoundError):
            Path(self.cfg.socket).unlink()  # noqa: ASYNC240 (one unlink at shutdown)
