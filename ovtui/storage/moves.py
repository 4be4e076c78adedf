"""Disk moves: what is asked is checked, persisted in the store (table `disk_moves`), run by the
stage machine (move_runner) through the libvirt driver, and resumed or undone after a restart.

Progress (bytes copied / total) is kept in memory while a move runs and written to the store
with each stage, so the API shows it without a read of the host per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tinydb import where

from ovtui.fleet.errors import FleetError
from ovtui.fleet.fleet import Fleet
from ovtui.model import VM, VmState
from ovtui.storage.disks import DiskService
from ovtui.storage.move_libvirt import LibvirtMoveDriver
from ovtui.storage.move_model import DiskMove, Endpoint
from ovtui.storage.move_runner import MoveDriver, MoveFailed, MoveRunner
from ovtui.storage.service import StorageService
from ovtui.storage.volume_xml import format_of_volume
from ovtui.store import Store

log = logging.getLogger(__name__)
TABLE = "disk_moves"


@dataclass
class MoveFigures:
    """For the exporter: moves started, succeeded, failed, and the durations of finished ones."""

    started: int = 0
    succeeded: int = 0
    failed: int = 0
    seconds: list[float] = field(default_factory=list)


class MoveService:
    def __init__(
        self,
        fleet: Fleet,
        storage: StorageService,
        disks: DiskService,
        store: Store,
        job_timeout: float,
        driver: MoveDriver | None = None,
    ) -> None:
        self.fleet, self.storage, self.disks, self.store = fleet, storage, disks, store
        self.driver = driver or LibvirtMoveDriver(fleet, storage, disks, job_timeout)
        self.runner = MoveRunner(self.driver, self._save)
        self.figures = MoveFigures()
        self._live: dict[str, DiskMove] = {}
        self._stored_stage: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- reading ---------------------------------------------------------------------------
    def all(self) -> list[DiskMove]:
        stored = {r["id"]: DiskMove.from_dict(r) for r in self.store.table(TABLE).all()}
        stored.update(self._live)
        return sorted(stored.values(), key=lambda m: m.started_at)

    def get(self, ident: str) -> DiskMove | None:
        return next((m for m in self.all() if m.id == ident), None)

    # -- persisting --------------------------------------------------------------------------
    def _save(self, m: DiskMove) -> None:
        self._live[m.id] = m
        if self._stored_stage.get(m.id) == m.stage and not m.finished:
            return  # progress only: kept in memory, written with the next stage
        self.store.table(TABLE).upsert(m.as_dict(), where("id") == m.id)
        self._stored_stage[m.id] = m.stage
        if m.finished:
            self._live.pop(m.id, None)

    # -- acting ----------------------------------------------------------------------------
    def plan(
        self,
        vm: VM,
        target_dev: str,
        dest_domain: str,
        dest_volume: str | None,
        actor: str,
        bandwidth: int = 0,
    ) -> DiskMove:
        """Checks the request and returns the move to run; raises FleetError saying why not."""
        disk = (
            next((d for d in vm.devices.disks if d.target == target_dev), None)
            if vm.devices
            else None
        )
        if disk is None:
            have = ", ".join(d.target for d in vm.devices.disks) if vm.devices else "not read yet"
            raise FleetError(
                f"{vm.name} has no disk {target_dev} (its disks: {have})",
                kind="invalid",
                vm=vm.name,
            )
        source = self._source_of(vm, disk.source)
        if source is None:
            raise FleetError(
                f"{vm.name}'s {target_dev} ({disk.source}) is not on an ovtui storage domain",
                kind="invalid",
                vm=vm.name,
            )
        src_domain, vol = source
        dest = self.storage.domain(dest_domain)
        if dest is None:
            names = ", ".join(d.name for d in self.storage.domains())
            raise FleetError(
                f"no storage domain named {dest_domain!r} (domains: {names})",
                kind="invalid",
                vm=vm.name,
            )
        if dest.name == src_domain:
            raise FleetError(
                f"{vm.name}'s {target_dev} is already on {dest.name}", kind="invalid", vm=vm.name
            )
        if vm.host not in self.storage.hosts(dest.name):
            raise FleetError(
                f"{vm.host}, where {vm.name} runs, does not see storage domain {dest.name}",
                kind="conflict",
                vm=vm.name,
            )
        if dest.type == "iscsi" and not dest_volume:
            luns = ", ".join(v.name for v in self.disks.volumes_of(dest.name)) or "none"
            raise FleetError(
                f"{dest.name} is iSCSI: name the LUN to move to (volume; LUNs: {luns})",
                kind="invalid",
                vm=vm.name,
            )
        busy = [
            m
            for m in self.all()
            if not m.finished and m.vm_uuid == vm.uuid and m.target_dev == target_dev
        ]
        if busy:
            raise FleetError(
                f"{vm.name}'s {target_dev} is already moving ({busy[0].id})",
                kind="conflict",
                vm=vm.name,
            )
        if vm.state == VmState.RUNNING:
            live = True
        elif vm.state == VmState.SHUTOFF:
            live = False
        else:
            raise FleetError(
                f"{vm.name} is {vm.state.value}: a disk moves while the VM runs "
                "(live) or is shut off (copy)",
                kind="conflict",
                vm=vm.name,
            )
        fmt = format_of_volume(vol.name)
        return DiskMove(
            id=uuid.uuid4().hex[:12],
            vm=vm.name,
            vm_uuid=vm.uuid,
            host=vm.host,
            target_dev=target_dev,
            live=live,
            source=Endpoint(src_domain, vol.name, vol.path, fmt),
            dest=Endpoint(dest.name, dest_volume or vol.name, "", fmt),
            capacity=vol.capacity,
            bytes_total=vol.capacity,
            actor=actor,
            bandwidth=bandwidth,
            started_at=time.time(),
        )

    def _source_of(self, vm: VM, source: str) -> tuple[str, Any] | None:
        for sd in self.storage.domains():
            if vm.host not in self.storage.hosts(sd.name):
                continue
            for vol in self.disks.volumes_of(sd.name):
                if source in self.disks.refs(sd.name, vol):
                    return sd.name, vol
        return None

    async def run(self, m: DiskMove) -> DiskMove:
        """Runs a planned move to its end (shielded: a client that goes away does not stop it);
        raises FleetError when it failed."""
        self._save(m)
        self.figures.started += 1
        task = asyncio.create_task(self.runner.run(m), name=f"disk-move-{m.id}")
        self._tasks.add(task)
        task.add_done_callback(self._done)
        try:
            return await asyncio.shield(task)
        except MoveFailed as failed:
            cause = failed.__cause__
            kind = cause.kind if isinstance(cause, FleetError) else "hypervisor"
            raise FleetError(failed.move.error, kind=kind, vm=m.vm) from None

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        move = exc.move if isinstance(exc, MoveFailed) else task.result() if exc is None else None
        if move is None:
            self.figures.failed += 1
            return
        if move.stage == "source_deleted":
            self.figures.succeeded += 1
        else:
            self.figures.failed += 1
        if move.finished_at:
            self.figures.seconds.append(move.finished_at - move.started_at)

    async def resume_all(self, wait_hosts: float = 30.0) -> None:
        """At engine start: every unfinished move is carried on or undone (move_runner)."""
        pending = [m for m in self.all() if not m.finished]
        if not pending:
            return
        await self.fleet.wait_connected(wait_hosts)
        for m in pending:
            log.info(
                "disk move %s (%s %s) found in stage %s: resuming",
                m.id,
                m.vm,
                m.target_dev,
                m.stage,
            )
            task = asyncio.create_task(self.runner.resume(m), name=f"disk-move-{m.id}")
            self._tasks.add(task)
            task.add_done_callback(self._done)

    async def stop(self) -> None:
        # An engine stopping mid-move leaves the stage in the store: the next start resumes it.
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
