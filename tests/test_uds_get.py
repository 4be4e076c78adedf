"""ovtui/uds_get.py against real Unix-socket servers: what the engine sends and what can go wrong.

Each server is an asyncio server on a socket in a temporary directory, answering with the
bytes a test gives it; the engine itself is met in tests/tui (every dashboard poll uses this).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from ovtui.client import ApiError, AsyncClient
from ovtui.uds_get import UnixGet

Answer = Callable[[bytes], bytes | None]  # request head -> raw answer (None: close, no answer)


@asynccontextmanager
async def server(answer: Answer, close_after: int = 0) -> AsyncIterator[tuple[Path, list[int]]]:
    """Yields (socket, requests per connection); close_after > 0: the server closes each
    connection after that many answers."""
    root = Path(tempfile.mkdtemp(prefix="ovg-"))
    sock = root / "s.sock"
    per_conn: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        per_conn.append(0)
        me = len(per_conn) - 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                per_conn[me] += 1
                raw = answer(head)
                if raw is None:
                    break
                writer.write(raw)
                await writer.drain()
                if close_after and per_conn[me] >= close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_unix_server(handle, path=str(sock))
    try:
        yield sock, per_conn
    finally:
        srv.close()
        await srv.wait_closed()
        sock.unlink(missing_ok=True)
        root.rmdir()


def ok(body: bytes, extra: str = "") -> Answer:
    return lambda head: (
        f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\n{extra}\r\n".encode() + body
    )


async def test_answers_come_back_and_the_connection_is_kept() -> None:
    seen: list[bytes] = []

    def answer(head: bytes) -> bytes:
        seen.append(head)
        return ok(b'{"a": 1}')(head) or b""

    async with server(answer) as (sock, per_conn):
        get = UnixGet(sock)
        for _ in range(3):
            assert await get.get("/x?y=1", {"Authorization": "Bearer t"}, 5) == (200, b'{"a": 1}')
        await get.aclose()
    assert per_conn == [3]  # one connection for the three
    assert seen[0].startswith(b"GET /x?y=1 HTTP/1.1\r\nHost: ovtui\r\nAuthorization: Bearer t")


async def test_a_chunked_body_is_put_together() -> None:
    raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    raw += b"4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\n\r\n"
    async with server(lambda head: raw) as (sock, per_conn):
        get = UnixGet(sock)
        assert await get.get("/", {}, 5) == (200, b"abcdefg")
        assert await get.get("/", {}, 5) == (200, b"abcdefg")
        await get.aclose()
    assert per_conn == [2]


async def test_a_connection_the_server_closed_is_replaced_and_the_get_answered() -> None:
    async with server(ok(b"[]"), close_after=1) as (sock, per_conn):
        get = UnixGet(sock)
        for _ in range(3):
            assert await get.get("/", {}, 5) == (200, b"[]")
        await get.aclose()
    assert per_conn == [1, 1, 1]


async def test_connection_close_is_honoured() -> None:
    async with server(ok(b"1", "connection: close\r\n")) as (sock, per_conn):
        get = UnixGet(sock)
        assert await get.get("/", {}, 5) == (200, b"1")
        assert await get.get("/", {}, 5) == (200, b"1")
        await get.aclose()
    assert per_conn == [1, 1]


async def test_errors_become_the_clients_api_errors() -> None:
    body = b'{"error": {"message": "no such VM: x"}}'
    answer: Answer = lambda head: (  # noqa: E731
        b"HTTP/1.1 404 Not Found\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
    )
    async with server(answer) as (sock, _):
        client = AsyncClient(sock, "t")
        with pytest.raises(ApiError) as err:
            await client.get_bytes("/api/v1/vms/x")
        await client.aclose()
    assert err.value.status == 404 and err.value.message == "no such VM: x"


async def test_no_engine_a_hung_one_and_garbage_say_the_engine_cannot_be_reached() -> None:
    missing = AsyncClient(Path("/nonexistent/api.sock"))
    with pytest.raises(ApiError) as err:
        await missing.get_bytes("/api/v1/hosts")
    assert err.value.status == 0 and "cannot reach the engine at /nonexistent" in err.value.message
    async with server(lambda head: b"") as (sock, _):  # reads the request, never answers
        hung = AsyncClient(sock)
        with pytest.raises(ApiError) as err:
            await hung.get_bytes("/api/v1/hosts", timeout=0.3)
        assert err.value.status == 0 and "TimeoutError" in err.value.message
        await hung.aclose()
    async with server(lambda head: b"SSH-2.0-OpenSSH\r\n\r\n") as (sock, _):
        odd = AsyncClient(sock)
        with pytest.raises(ApiError) as err:
            await odd.get_bytes("/")
        assert err.value.status == 0
        await odd.aclose()
