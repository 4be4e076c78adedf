"""Stopping the API servers never waits forever for a request that does not finish.

uvicorn waits for running requests at shutdown, without a bound unless told: one request stuck
(behind a hung host, say) kept a whole engine from stopping.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import httpx
from fastapi import FastAPI

from ovtui.api.server import ApiServers
from ovtui.config.schema import ApiSection


def _stuck_app(entered: threading.Event) -> FastAPI:
    app = FastAPI()

    @app.get("/stuck")
    async def stuck() -> dict[str, str]:
        entered.set()
        await asyncio.Event().wait()  # never set: a request that never finishes
        return {}

    return app


def test_a_stuck_request_is_cancelled_at_stop(tmp_path: Path) -> None:
    entered = threading.Event()
    sock = tmp_path / "api.sock"
    servers = ApiServers(_stuck_app(entered), ApiSection(socket=sock), graceful_stop=1)
    answers: list[object] = []

    def ask() -> None:
        transport = httpx.HTTPTransport(uds=str(sock))
        try:
            with httpx.Client(transport=transport, timeout=120) as client:
                answers.append(client.get("http://ovtui/stuck").status_code)
        except httpx.HTTPError as exc:
            answers.append(exc)

    async def scenario() -> None:
        await servers.start()
        client = threading.Thread(target=ask, daemon=True)
        client.start()
        await asyncio.to_thread(entered.wait, 60)
        assert entered.is_set(), "the request never reached the app"
        # Generous: the bound under test is the 1 s grace, not the machine's speed.
        async with asyncio.timeout(30):
            await servers.stop()
        await asyncio.to_thread(client.join, 60)

    asyncio.run(scenario())
    assert not sock.exists()
    assert answers == [500]  # the cancelled request is answered, not left hanging
