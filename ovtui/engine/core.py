"""Engine: store + logs + audit + sessions + fleet, and the audited entry points for actions.

Every action goes: API handler -> authorisation (ovtui.api.authz) -> Engine.perform (audit)
-> fleet. Policy jobs will call perform with a system principal, audited the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from auth.principal import Principal
from auth.refusal_limit import RefusalLimit
from auth.sessions import SessionStore
from auth.syslog_sink import SyslogSink
from collectors.engine_metrics import EngineMetrics
from collectors.storage_metrics import StorageCollector, StorageInput
from ovtui.config.schema import Config
from ovtui.engine import inflight, maintenance, move_guard, unfit_hosts
from ovtui.engine.audit_open import open_audit_on
from ovtui.engine.network_defs import NetworkDefinitions
from ovtui.engine.signin import build_signin
from ovtui.fleet import actions
from ovtui.fleet.assemble import LoadModel
from ovtui.fleet.errors import FleetError
from ovtui.fleet.fleet import Fleet
from ovtui.ha.service import HaService
from ovtui.jobs.service import PolicyService
from ovtui.model import VM, Snapshot
from ovtui.provision import hooked
from ovtui.provision.hooks import Hooks
from ovtui.provision.service import ProvisionService
from ovtui.storage.disks import DiskService
from ovtui.storage.metrics_input import storage_input
from ovtui.storage.moves import MoveService
from ovtui.storage.service import StorageService
from ovtui.store import Store
from ovtui.store.state import Log, State, open_files
from policies.plan import Move

log = logging.getLogger(__name__)
HA_PRINCIPAL = Principal("system:ha", frozenset({"SuperUser"}), source="system")
Run = Callable[[], Awaitable[dict[str, Any]]]
# What a live migration reports besides its duration (ovtui.fleet.migration_ops.job_figures).
MIGRATION_FIGURES = ("downtime_ms", "job_ms", "transferred_mib")


class ScrapeTrips(Protocol):
    """What the engine asks of its exporter (collectors.exporter_server.Exporter fits)."""

    def build_on_loop(self, name: str, build: Callable[[], object]) -> None: ...

    def built(self, name: str) -> object | None: ...


class Engine:
    def __init__(
        self,
        config: Config,
        *,
        synthetic_load: LoadModel | None = None,
        state: State | None = None,
    ) -> None:
        self.config = config
        self._stopped = False
        self.api_tcp_port: int | None = None  # set once the TCP listener is bound (port 0 = any)
        self.exporter_port: int | None = None  # set once /metrics is bound (port 0 = any)
        self.metrics = EngineMetrics()  # API, jobs, migrations, plans; served by the exporter
        # Files in store_dir, or PostgreSQL (ovtui.store.state): the rest does not know which.
        self.state = state or open_files(config.engine.store_dir)
        try:
            self._build(config, synthetic_load)
        except BaseException:
            if state is None:  # opened here: an engine that cannot be built leaves none open
                self.state.close()
            raise

    def _build(self, config: Config, synthetic_load: LoadModel | None) -> None:
        self.store: Store = self.state.store
        self.events: Log = self.state.events
        self.migrations: Log = self.state.migrations
        self.audit_log: Log = self.state.audit
        # Syslog first: what the trail's check at start finds is forwarded too.
        syslog = [SyslogSink(config.auth.audit_syslog)] if config.auth.audit_syslog else []
        self.audit, problems = open_audit_on(self.audit_log, self.state.anchor, self.store, syslog)
        self.metrics.audit.problems.set(len(problems))
        self.refusal_limit = RefusalLimit()  # audit records of callers not signed in (401s)
        self.sessions = SessionStore(
            config.auth.session_ttl_minutes * 60, config.auth.session_idle_minutes * 60
        )
        self.signin = build_signin(
            config,
            self.store,
            self.sessions,
            self.audit,
            self.refusal_limit,
            self.metrics.audit.dropped.inc,
        )
        self.fleet = Fleet(
            config,
            synthetic_load=synthetic_load,
            maintenance_of=lambda h: bool(self.store.host_state(h).get("maintenance")),
            powered_off=lambda h: self.store.host_state(h).get("power") == "off",
            on_event=self._record_event,
            on_call_error=self.metrics.libvirt_error,
            ha_of=lambda uuid, pending: self.ha.ha_of(uuid, pending),
            on_lifecycle=lambda *event: self.ha.on_lifecycle(*event),
            on_unfit=self._host_unfit,
            unfit_reason=lambda h: self.storage.problem_of(h),
            storage_of=lambda h: self.storage.active_on(h),
            domain_of_disk=lambda source: self.storage.domain_of_disk(source),
            disks_shared=lambda vm: self.storage.disks_shared(vm),
        )
        # Logical networks of ovtui.toml and those defined through the API (kept in the store).
        self.networks = NetworkDefinitions(config, self.store, self.fleet)
        # Storage domains realised as pools on their hosts; a host that cannot activate a shared
        # one turns non_operational (the fleet asks problem_of when it rebuilds the host).
        self.storage = StorageService(
            config, self.fleet.links, on_host_change=self.fleet.invalidate
        )
        self.disks = DiskService(self.storage, self.fleet, self.store)
        self.moves = MoveService(
            self.fleet,
            self.storage,
            self.disks,
            self.store,
            config.engine.migration_timeout_seconds,
        )
        # VMs ovtui provisions: definitions kept in the store, placed when they start.
        prov = config.provision
        self.hooks = Hooks(prov.hooks_dir, prov.hook_timeout_seconds, self._hook_ran)
        self.provision = ProvisionService(
            config, self.fleet, self.storage, self.disks, self.store, self.hooks
        )
        self.provision.on_provisioned = self.metrics.provision.provisioned
        self._resuming: asyncio.Task[None] | None = None
        self.inflight_settled = asyncio.Event()  # plans resume after this (jobs/service.py)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.metrics.registry.register(StorageCollector(self._storage_input))
        self.scrape_built: Callable[[str], object | None] | None = None  # share_scrape_trip
        # The one hook for a host unfit for its cluster (a required network missing): its VMs
        # are the HA resiliency policy's to move, like any non-operational host's.
        self.on_host_unfit: Callable[[Engine, str, str], Coroutine[Any, Any, None]] = (
            unfit_hosts.leave_to_resiliency
        )
        self._background: set[asyncio.Task[None]] = set()
        self.policies = PolicyService(self)  # balancing / power-saving jobs, plans, executor
        # Fencing and HA restarts (ovtui/ha); it acts as the system principal "system:ha".
        self.ha = HaService(config, self.store, self.fleet, self._ha_act, self._record_event,
                            self.metrics.ha, migrate=self._resiliency_migrate)  # fmt: skip

    def _storage_input(self) -> StorageInput:
        """For the exporter's scrape thread: built on the engine's loop, which owns the data
        (in the exporter's own trip to the loop when it has one: `share_scrape_trip`)."""
        shared = self.scrape_built("storage") if self.scrape_built is not None else None
        if isinstance(shared, StorageInput):
            return shared
        loop = self._loop
        if loop is None or loop.is_closed():
            return StorageInput()
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            return storage_input(self.storage, self.disks, self.moves)

        async def build() -> StorageInput:
            return storage_input(self.storage, self.disks, self.moves)

        return asyncio.run_coroutine_threadsafe(build(), loop).result(timeout=5)

    def share_scrape_trip(self, exporter: ScrapeTrips) -> None:
        """The storage families' input is built in the exporter's one trip to the loop per
        scrape (each trip waits for a busy loop, then for the GIL), not in a trip of its own."""
        exporter.build_on_loop(
            "storage", lambda: storage_input(self.storage, self.disks, self.moves)
        )
        self.scrape_built = exporter.built

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self.fleet.start()
        self.storage.start()
        # Disk moves an earlier engine left unfinished: carried on or undone (storage/moves.py).
        # Migrations an earlier engine left under way: settled by the facts (engine/inflight.py).
        self._resuming = asyncio.create_task(self._resume_all(), name="resume-after-restart")
        self.policies.start()
        await self.ha.start()

    async def _resume_all(self) -> None:
        try:
            await inflight.settle_all(self)
        except Exception:  # logged; disk moves and plans still resume (plans re-check facts)
            log.exception("settling the migrations an earlier engine left failed")
        finally:
            self.inflight_settled.set()
        await self.moves.resume_all()

    async def stop(self) -> None:
        """Stops every part, each even if one before it failed (its error is raised at the end),
        and closes the store and the logs whatever happened."""
        if self._stopped:
            return
        self._stopped = True
        failed: Exception | None = None
        steps = (self.ha.stop, self._stop_background, self.policies.stop, self._stop_resuming,
                 self.moves.stop, self.storage.stop, self.fleet.stop)  # fmt: skip
        try:
            for step in steps:
                try:
                    await step()
                except Exception as exc:
                    log.exception("stopping the engine: %s failed", step.__qualname__)
                    failed = failed or exc
        finally:
            self.state.close()
        if failed is not None:
            raise failed

    async def _stop_background(self) -> None:
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def _stop_resuming(self) -> None:
        if self._resuming is not None:
            self._resuming.cancel()
            await asyncio.gather(self._resuming, return_exceptions=True)

    def snapshot(self) -> Snapshot:
        return self.fleet.snapshot()

    def lead_token(self) -> int | None:
        database = self.state.database
        return None if database is None else database.token

    def _hook_ran(self, **record: Any) -> None:
        """Every hook run: audited, and counted by event and result."""
        self.audit.record(**record)
        self.metrics.provision.hook_ran(record["params"]["event"], record["result"])

    def _record_event(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    async def _ha_act(
        self, action: str, target: str, params: dict[str, Any], run: Run
    ) -> dict[str, Any]:
        return await self.perform(HA_PRINCIPAL, action, target, params, run, "system:ha")

    async def _resiliency_migrate(self, vm: VM, target: str) -> dict[str, Any]:
        return await self.migrate(HA_PRINCIPAL, vm, target, "system:ha resiliency")

    def _host_unfit(self, host: str, reason: str) -> None:
        if self._stopped:
            return
        task = asyncio.get_running_loop().create_task(self.on_host_unfit(self, host, reason))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- audited actions -----------------------------------------------------------------------
    async def perform(
        self,
        principal: Principal,
        action: str,
        target: str,
        params: dict[str, Any],
        run: Callable[[], Awaitable[dict[str, Any]]],
        source: str = "",
    ) -> dict[str, Any]:
        """Runs an authorised action and records its outcome, success or failure, in the audit.
        An action on a VM or disk a disk move holds is refused here (engine/move_guard.py)."""
        try:
            busy = move_guard.refusal(self.moves.all, self.disks, action, target, params)
            if busy is not None:
                raise busy
            outcome = await run()
        except FleetError as exc:
            self.audit.record(
                actor=principal.name,
                actor_source=principal.source,
                action=action,
                target=target,
                params=params,
                result="failed",
                source=source,
                detail=exc.message,
            )
            raise
        self.audit.record(
            actor=principal.name,
            actor_source=principal.source,
            action=action,
            target=target,
            params=params,
            result="ok",
            source=source,
            detail=str(outcome.get("result", "")),
        )
        return outcome

    async def vm_action(
        self, principal: Principal, vm: VM, action: str, source: str = ""
    ) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            who = principal.name
            if action == "start" and self.provision.owns(vm.uuid):
                return await self.provision.start(vm, who)  # a down VM belongs to its cluster
            if action == "start":
                await hooked.before_start(self.hooks, self.fleet, vm, who)
            out = (await actions.vm_action(self.fleet, vm, action)).as_dict()
            if action == "start":
                await hooked.after(self.hooks, self.fleet, "after_vm_start", vm, vm.host, who)
            elif action in ("shutdown", "poweroff"):
                await hooked.after(self.hooks, self.fleet, "after_vm_stop", vm, vm.host, who)
            return out

        target = f"vm/{vm.name}@{vm.host}"
        return await self.perform(principal, f"vm.{action}", target, {"uuid": vm.uuid}, run, source)

    async def migrate(
        self, principal: Principal, vm: VM, target_host: str, source: str = ""
    ) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            record: dict[str, Any] = {
                "vm": vm.name,
                "uuid": vm.uuid,
                "source": vm.host,
                "target": target_host,
                "actor": principal.name,
            }
            await hooked.refuse_only(
                self.hooks, self.fleet, "before_migrate", vm, principal.name, "a migration"
            )
            inflight.begin(self, vm, target_host, principal.name)  # before libvirt is asked
            try:
                with self.metrics.migrations.attempt() as attempt:
                    outcome = (await actions.migrate(self.fleet, vm, target_host)).as_dict()
                    attempt.succeeded(outcome)
            except FleetError as exc:
                inflight.end(self, vm.uuid)
                self.migrations.append({**record, "result": "failed", "error": exc.message})
                self.events.append(
                    {
                        "kind": "migration",
                        "vm": vm.name,
                        "host": vm.host,
                        "what": f"migration to {target_host} failed",
                        "detail": exc.message,
                    }
                )
                raise
            inflight.end(self, vm.uuid)
            await hooked.after(
                self.hooks, self.fleet, "after_migrate", vm, target_host, principal.name
            )
            self.migrations.append(
                {
                    **record,
                    "result": "succeeded",
                    "mode": outcome["mode"],
                    "seconds": outcome["seconds"],
                    **{k: outcome[k] for k in MIGRATION_FIGURES if k in outcome},
                }
            )
            self.events.append(
                {
                    "kind": "migration",
                    "vm": vm.name,
                    "host": target_host,
                    "what": f"{outcome['mode']} migration from {vm.host} done",
                }
            )
            return outcome

        params = {"uuid": vm.uuid, "to": target_host}
        return await self.perform(
            principal, "vm.migrate", f"vm/{vm.name}@{vm.host}", params, run, source
        )

    async def enter_maintenance(
        self, principal: Principal, host: str, reason: str, source: str = ""
    ) -> dict[str, Any]:
        async def migrate(move: Move) -> dict[str, Any]:
            vm = self.snapshot().vm(move.vm_uuid)
            if vm is None:
                raise FleetError(
                    f"{move.vm_name} disappeared before it could be moved", kind="conflict"
                )
            return await self.migrate(principal, vm, move.target, source)

        async def run() -> dict[str, Any]:
            return await maintenance.enter(self, host, reason, principal.name, migrate)

        params = {"reason": reason}
        return await self.perform(
            principal, "host.maintenance", f"host/{host}", params, run, source
        )

    async def activate(self, principal: Principal, host: str, source: str = "") -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            return maintenance.leave(self, host, principal.name)

        return await self.perform(principal, "host.activate", f"host/{host}", {}, run, source)
