"""GETs over kept-alive HTTP/1.1 connections to a Unix socket, for the dashboard's polls.

The dashboard asks the engine four GETs every 2 s for as long as it is left open. Through
httpx each cost ~0.9 ms of CPU (its request and response models, httpcore's pool and locks,
anyio): a quarter of an idle dashboard's CPU, spent to learn that nothing changed. This is
HTTP/1.1 as the engine (uvicorn) speaks it, GET only: a request line and headers out; a status
line, headers and a body (Content-Length or chunked) back, the connection kept for the next
one. Anything else (POST, the sign-in, actions) still goes through httpx.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

MAX_HEAD = 64 * 1024  # a response's status line and headers; the engine's are a few hundred bytes
_Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class UnixGet:
    def __init__(self, socket: Path, host: str = "ovtui") -> None:
        self.socket = socket
        self.host = host
        self._idle: list[_Conn] = []  # connections the server keeps open, one per GET in flight

    async def get(self, target: str, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
        """(status, body) of `GET target`. Raises OSError when the socket cannot be reached,
        TimeoutError after `timeout` s, ConnectionError on an answer that is not HTTP."""
        lines = [f"GET {target} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return await asyncio.wait_for(self._get(request), timeout)

    async def _get(self, request: bytes) -> tuple[int, bytes]:
        while True:
            kept = bool(self._idle)
            conn = self._idle.pop() if kept else await self._connect()
            try:
                status, body, keep = await _exchange(conn, request)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                conn[1].close()
                if kept:  # the server closed a kept connection meanwhile: again on a new one
                    continue
                raise ConnectionError(f"the engine closed the connection: {exc!r}") from None
            except BaseException:  # cancelled (timeout) mid-answer: the connection is unusable
                conn[1].close()
                raise
            if keep:
                self._idle.append(conn)
            else:
                conn[1].close()
            return status, body

    async def _connect(self) -> _Conn:
        return await asyncio.open_unix_connection(str(self.socket), limit=MAX_HEAD)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for _, writer in idle:
            writer.close()


async def _exchange(conn: _Conn, request: bytes) -> tuple[int, bytes, bool]:
    reader, writer = conn
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ConnectionError(f"not an HTTP answer: {status_line[:80]!r}")
    fields: dict[str, str] = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip()
    if "chunked" in fields.get("transfer-encoding", "").lower():
        body = await _chunked(reader)
    elif "content-length" in fields:
        body = await reader.readexactly(int(fields["content-length"]))
    else:  # no length: the body ends with the connection
        return int(parts[1]), await reader.read(), False
    keep = fields.get("connection", "").lower() != "close" and parts[0] == "HTTP/1.1"
    return int(parts[1]), body, keep


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    out = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, then the end
                pass
            return bytes(out)
        out += await reader.readexactly(size)
        await reader.readexactly(2)  # the CRLF after the chunk
