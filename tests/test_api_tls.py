"""The optional TCP listener speaks only TLS, and the Unix socket gets the configured mode."""

from __future__ import annotations

import asyncio
import ssl
import stat
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from auth.local_users import LocalUser, write_local_users
from auth.passwords import hash_password
from ovtui.config import Config, load_config
from ovtui.engine import Engine
from ovtui.engine.run import run_engine
from ovtui.testdriver_fleet import synthetic_spec, write_fleet


def _self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "api.crt", directory / "api.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_engine() -> Iterator[tuple[Config, Engine, int]]:
    root = Path(tempfile.mkdtemp(prefix="ovt-"))
    cert, key = _self_signed(root)
    config = load_config(write_fleet(synthetic_spec(2, 3, clusters=1), root))
    users = root / "local-users.toml"  # an engine nobody can sign in to is refused
    write_local_users(users, [LocalUser("admin", hash_password("pw", n=2**4), frozenset())])
    auth = config.auth.model_copy(update={"local_users_file": users})
    api = config.api.model_copy(
        update={"tcp": "127.0.0.1:0", "tls_cert": cert, "tls_key": key, "socket_mode": "0660"}
    )
    config = config.model_copy(update={"api": api, "auth": auth})
    ready: dict[str, Engine] = {}
    started = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def on_ready(engine: Engine) -> None:
        ready["engine"] = engine
        started.set()

    def serve() -> None:
        loop.run_until_complete(run_engine(config, stop=stop, on_ready=on_ready))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(20), "engine did not start"
    engine = ready["engine"]
    port = engine.api_tcp_port
    assert port
    yield config, engine, port
    loop.call_soon_threadsafe(stop.set)
    thread.join(20)


def test_tcp_listener_requires_tls_and_serves_the_api(tls_engine) -> None:
    config, _engine, port = tls_engine
    ctx = ssl.create_default_context(cafile=str(config.api.tls_cert))
    resp = httpx.get(f"https://127.0.0.1:{port}/api/v1/health", verify=ctx)
    assert resp.status_code == 200 and resp.json()["hosts"] == 2
    with pytest.raises(httpx.HTTPError):  # no clear-text HTTP on the TLS port
        httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=3)
    with pytest.raises(httpx.ConnectError):  # and an unknown CA is refused by the client
        httpx.get(f"https://127.0.0.1:{port}/api/v1/health")


def test_unix_socket_has_the_configured_mode(tls_engine) -> None:
    config, _engine, _port = tls_engine
    mode = stat.S_IMODE(config.api.socket.stat().st_mode)
    assert mode == 0o660
