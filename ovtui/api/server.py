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

from ovtui.config.preflight import unix_socket_problem
from ovtui.config.schema import ApiSection, parse_listen


class ListenError(OSError):
    """The API cannot listen where the config says; `key` is the config key to change."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key, self.message = key, message


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the engine handles SIGTERM/SIGINT itself and stops every server in order


def bind_unix_socket(path: Path, mode: int, group: str | None) -> socket.socket:
    """Binds with the final mode from the start (uvicorn would chmod a new socket to 0666).

    Only a socket nobody answers on (left by a killed engine) is replaced: never a file, never
    the socket of a running engine.
    """
    problem = unix_socket_problem(path)
    if problem:
        raise ListenError("api.socket", problem)
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o777 & ~mode)
    bound = False
    try:
        sock.bind(str(path))
        bound = True
        os.chmod(path, mode)
        if group:
            os.chown(path, -1, grp.getgrnam(group).gr_gid)
    except (OSError, KeyError) as exc:
        sock.close()
        if bound:  # ours: take it back (a path someone else bound in between is theirs)
            path.unlink(missing_ok=True)
        key = "api.socket_group" if group and not isinstance(exc, OSError) else "api.socket"
        raise ListenError(key, f"cannot serve the API on {path}: {exc}") from exc
    finally:
        os.umask(old)
    sock.listen(128)
    return sock


def bind_tcp(listen: str) -> socket.socket:
    """Binds api.tcp here rather than in uvicorn, which exits the process on a busy port."""
    host, port = parse_listen(listen)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ListenError(
            "api.tcp",
            f"cannot listen on {listen}: {exc.strerror or exc}; stop what holds it or set "
            "api.tcp to a free address",
        ) from exc
    return sock


class ApiServers:
    def __init__(self, app: FastAPI, cfg: ApiSection) -> None:
        self.app, self.cfg = app, cfg
        self._servers: list[_Server] = []
        self._sockets: list[socket.socket] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._tcp: socket.socket | None = None

    def bind(self) -> None:
        """Takes the socket and the TCP address; ListenError names the key when one is taken."""
        cfg = self.cfg
        sock = bind_unix_socket(Path(cfg.socket), int(cfg.socket_mode, 8), cfg.socket_group)
        self._add(uvicorn.Config(self.app, log_level="warning", lifespan="off"), sock)
        if cfg.tcp:
            self._tcp = bind_tcp(cfg.tcp)
            tls = uvicorn.Config(
                self.app,
                log_level="warning",
                lifespan="off",
                ssl_certfile=str(cfg.tls_cert),
                ssl_keyfile=str(cfg.tls_key),
            )
            self._add(tls, self._tcp)

    async def start(self) -> None:
        if not self._servers:
            self.bind()
        for server, sock in zip(self._servers, self._sockets, strict=True):
            self._tasks.append(asyncio.create_task(server.serve(sockets=[sock])))
        while not all(s.started for s in self._servers):
            if any(t.done() for t in self._tasks):
                await asyncio.gather(*self._tasks)  # surfaces the bind error
                raise RuntimeError("API server stopped during start-up")
            await asyncio.sleep(0.01)

    def _add(self, config: uvicorn.Config, sock: socket.socket) -> None:
        self._servers.append(_Server(config))
        self._sockets.append(sock)

    @property
    def tcp_port(self) -> int | None:
        return None if self._tcp is None else int(self._tcp.getsockname()[1])

    async def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        # uvicorn closes idle keep-alive connections; over TLS that waits for the client's
        # close_notify, which an idle client (the oVirt SDK, httpx) never sends, so asyncio would
        # wait its 30 s ssl_shutdown_timeout. Cut those (already closing) at once; connections
        # still answering a request are not closing and finish as before.
        while not all(t.done() for t in self._tasks):
            for server in self._servers:
                for conn in list(server.server_state.connections):
                    transport = getattr(conn, "transport", None)
                    if transport is not None and transport.is_closing():
                        transport.abort()
            await asyncio.sleep(0.05)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for sock in self._sockets:
            sock.close()
        if self._sockets:  # the Unix socket is ours (never unlink another engine's)
            with contextlib.suppress(FileNotFoundError):
                Path(self.cfg.socket).unlink()  # noqa: ASYNC240 (one unlink at shutdown)
