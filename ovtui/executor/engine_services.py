"""What the executor and the policy jobs need from the engine, as a protocol.

The engine composes its services and hands itself to them as this interface, so ovtui.jobs and
ovtui.executor never import ovtui.engine (DESIGN.md: lower rooms never import higher ones;
tests/test_boundaries.py checks it, type-checking imports included).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from auth.principal import Principal
    from ovtui.config.schema import Config
    from ovtui.fleet.fleet import Fleet
    from ovtui.model import VM, Snapshot
    from ovtui.store import Store


class EngineServices(Protocol):
    config: Config
    store: Store
    fleet: Fleet
    # set once the migrations an earlier engine left under way are settled (engine/inflight.py)
    inflight_settled: asyncio.Event

    def snapshot(self) -> Snapshot: ...

    def lead_token(self) -> int | None:
        """The fencing token this engine leads with (PostgreSQL), None with an embedded store."""
        ...

    async def perform(
        self,
        principal: Principal,
        action: str,
        target: str,
        params: dict[str, Any],
        run: Callable[[], Awaitable[dict[str, Any]]],
        source: str = "",
    ) -> dict[str, Any]: ...

    async def migrate(
        self, principal: Principal, vm: VM, target_host: str, source: str = ""
    ) -> dict[str, Any]: ...

    async def enter_maintenance(
        self, principal: Principal, host: str, reason: str, source: str = ""
    ) -> dict[str, Any]: ...

    async def activate(
        self, principal: Principal, host: str, source: str = ""
    ) -> dict[str, Any]: ...
