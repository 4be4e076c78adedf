"""An in-process engine for the policy, audit and snapshot tests: a fixed test-driver fleet,
synthetic load frozen at one instant, no scheduled policy rounds, and one token per user.

Frozen load makes every figure (and so every plan) the same on every run; no scheduled rounds
means a plan exists only when a test asks for one; signing in once per user keeps the audit
trail to what the tests do.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from types import MappingProxyType, SimpleNamespace
from typing import Any

import pytest
from textual.app import App

from collectors.synthetic_load import SyntheticLoad
from ovtui.client import AsyncClient
from ovtui.config import Config
from ovtui.testdriver_fleet import ClusterSpec, DatacenterSpec, FleetSpec, HostSpec, VmSpec
from ovtui.tui.app import OvtuiApp
from ovtui.tui.chrome import Chrome, FleetScreen
from ovtui.tui.poller import Poller
from tests.conftest import ROLE_USERS, LiveEngine, fleet_config

SKY, ROME = "Skylake-Server", "EPYC-Rome"
FROZEN_AT = 1795334400.0  # 2026-11-22 08:00 UTC, as in tests/policies/test_policy_engine.py
NO_POLL = 3600.0  # the app's refresh: the tests drive reloads themselves


def frozen_load(name: str, role: str, _t: float) -> float:
    return _MODEL.vm_cpu(name, role, FROZEN_AT)


_MODEL = SyntheticLoad()


def _vms(prefix: str, n: int, role: str, vcpus: int = 2) -> tuple[VmSpec, ...]:
    return tuple(VmSpec(f"{prefix}-{i}", vcpus, 4096, role) for i in range(1, n + 1))


def policy_spec() -> FleetSpec:
    """c1 (dc1): h1 and h2 run hot (~93% CPU), h3 is empty: balancing plans two migrations.
    c2 (dc2): one quiet host, nothing to plan."""
    now = MappingProxyType({"CpuOverCommitDurationMinutes": 0})
    c1 = ClusterSpec("c1", "dc1", SKY, 150, "evenly_distributed", "recommend", params=now)
    c2 = ClusterSpec("c2", "dc2", ROME, 150, "evenly_distributed", "recommend", params=now)
    return FleetSpec(
        (DatacenterSpec("dc1", "first site"), DatacenterSpec("dc2", "second site")),
        (c1, c2),
        (
            HostSpec("h1", "c1", 8, 65536, SKY, 2400, _vms("hot-a", 4, "hot")),
            HostSpec("h2", "c1", 8, 65536, SKY, 2400, _vms("hot-b", 4, "hot")),
            HostSpec("h3", "c1", 16, 65536, SKY, 2400, ()),
            HostSpec("h4", "c2", 16, 65536, ROME, 2600, _vms("web", 3, "web", 1)),
        ),
    )


def _no_rounds(config: Config) -> Config:
    def quiet(scheduling: Any) -> Any:
        return scheduling.model_copy(update={"balance_interval_seconds": 86400})

    clusters = [c.model_copy(update={"scheduling": quiet(c.scheduling)}) for c in config.clusters]
    return config.model_copy(update={"clusters": clusters})


class PlanIds:
    """Plan ids in order (plan-0001, ...), in place of random ones: snapshots show them."""

    def __init__(self) -> None:
        self.n = 0

    def token_hex(self, _nbytes: int) -> str:
        self.n += 1
        return f"plan{self.n:04d}"


@contextlib.contextmanager
def frozen_engine(spec: FleetSpec) -> Iterator[LiveEngine]:
    config = _no_rounds(fleet_config(spec))
    with pytest.MonkeyPatch.context() as mp:
        # The engine builds its load model from the config; this one ignores the clock.
        mp.setattr("ovtui.engine.run.synthetic_model_for", lambda _config: frozen_load)
        mp.setattr("ovtui.jobs.plan_store.secrets", SimpleNamespace(token_hex=PlanIds().token_hex))
        live = LiveEngine(config)
        try:
            live.settle()
            yield live
        finally:
            live.stop()
            shutil.rmtree(config.engine.store_dir.parent, ignore_errors=True)


class ViewHost(App[None]):
    """Just enough app for one fleet screen: a client, a poller, the chrome. The policy and
    audit screens need nothing else from the dashboard, and their tests then do not depend on
    it; how the dashboard opens them is tested with the real app."""

    def __init__(self, socket: Any, token: str, screen: type[FleetScreen]) -> None:
        super().__init__()
        self.client = AsyncClient(socket, token)
        self.poller = Poller(self.client)
        self.chrome = Chrome(summary="tests")
        self.view = screen(self.chrome, self.poller)  # type: ignore[call-arg]

    async def on_mount(self) -> None:
        await self.push_screen(self.view)

    async def on_unmount(self) -> None:
        await self.client.aclose()


class Session:
    """One token per user for the whole module: each sign-in is an audit record."""

    def __init__(self, live: LiveEngine) -> None:
        self.live = live
        self.tokens: dict[str, str] = {}

    def token(self, user: str) -> str:
        if user not in self.tokens:
            self.tokens[user] = self.live.login(user)
        return self.tokens[user]

    def app(self, user: str = "admin", **kwargs: Any) -> OvtuiApp:
        return OvtuiApp(self.live.socket, self.token(user), refresh_seconds=NO_POLL, **kwargs)

    def host(self, user: str, screen: type[FleetScreen]) -> ViewHost:
        return ViewHost(self.live.socket, self.token(user), screen)

    def call(self, user: str, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.live.client(self.token(user)).request(method, path, **kwargs)
        assert resp.status_code < 400, resp.text
        return resp.json()


def role_user(role: str) -> str:
    return ROLE_USERS[role]
