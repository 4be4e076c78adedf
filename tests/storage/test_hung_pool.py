"""A pool call that hangs inside libvirt stalls nothing else: the call times out (the per-call
timeout every pool call goes through), the domain says so on that host, the API and the other
host's domains carry on, and the host is not declared lost for it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from ovtui.storage import service
from tests.conftest import API, LiveEngine
from tests.storage.helpers import all_read, storage_spec, wait_storage, with_domains


def test_a_hung_pool_call_stalls_nothing_else(
    start_engine: Callable[..., LiveEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real = service.ensure_pool

    def ensure_pool(conn: Any, sd: Any, host: str) -> Any:
        if host == "h1":
            release.wait(120)  # stuck inside "libvirt" until the test lets it go
        return real(conn, sd, host)

    monkeypatch.setattr(service, "ensure_pool", ensure_pool)
    config = with_domains(
        storage_spec(),
        [
            {"name": "loc", "type": "local", "path": "/var/lib/vm", "hosts": ["h1"]},
            {"name": "scratch", "type": "local", "path": "/srv/vm", "hosts": ["h2"]},
        ],
    )
    config = config.model_copy(
        update={"engine": config.engine.model_copy(update={"libvirt_call_timeout_seconds": 1.0})}
    )
    live = start_engine(config=config)
    try:
        admin = live.as_role("SuperUser")
        domains = {d["name"]: d for d in wait_storage(admin, all_read, timeout=60)}
        (loc,) = domains["loc"]["hosts"]
        (scratch,) = domains["scratch"]["hosts"]
        assert scratch["state"] == "active", scratch
        assert loc["state"] == "error" and "pool hung?" in loc["error"], loc
        hosts = {h["name"]: h["state"] for h in admin.get(f"{API}/hosts").json()}
        assert hosts == {"h1": "up", "h2": "up"}  # a hung pool is not a hung host
    finally:
        release.set()
