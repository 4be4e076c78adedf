"""The disk-move driver on real hosts: blockCopy, block-job events, pivot, redefine, delete.

A copy's outcome comes from VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2 events (a job that fails, e.g. on
a size mismatch, may only say so in an event; blockCopy itself returned success) and, between
events, from blockJobInfo for progress. Every call runs on the VM's host through HostLink.call
(off the event loop, with a timeout); the wait for the copy is bounded by the engine's
migration_timeout_seconds.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from typing import Any

import libvirt

from ovtui.fleet.errors import FleetError
from ovtui.fleet.fleet import Fleet
from ovtui.storage import volumes
from ovtui.storage.disks import DiskService
from ovtui.storage.move_model import DiskMove
from ovtui.storage.move_runner import Progress
from ovtui.storage.move_xml import DiskSource, find_disk, lun_of, point_at
from ovtui.storage.pools import lookup_pool
from ovtui.storage.service import StorageService
from ovtui.storage.volume_xml import EXTENSION, VolumeRequest, volume_xml

COPY_FLAGS = libvirt.VIR_DOMAIN_BLOCK_COPY_REUSE_EXT | libvirt.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB
_STATUS = {
    libvirt.VIR_DOMAIN_BLOCK_JOB_COMPLETED: "completed",
    libvirt.VIR_DOMAIN_BLOCK_JOB_FAILED: "failed",
    libvirt.VIR_DOMAIN_BLOCK_JOB_CANCELED: "cancelled",
    libvirt.VIR_DOMAIN_BLOCK_JOB_READY: "ready",
}
Event = tuple[str, int]  # (disk target, status)


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.2f} GiB"


class LibvirtMoveDriver:
    def __init__(
        self, fleet: Fleet, storage: StorageService, disks: DiskService, job_timeout: float
    ) -> None:
        self.fleet, self.storage, self.disks = fleet, storage, disks
        self.job_timeout = job_timeout
        self._queues: dict[str, asyncio.Queue[Event]] = {}
        self._watches: dict[str, tuple[libvirt.virConnect, int]] = {}

    # -- helpers -------------------------------------------------------------------------
    async def _call(self, m: DiskMove, fn: Any, action: str) -> Any:
        # A call that hangs here is this VM's QEMU stuck on a storage target (a dead iSCSI
        # portal stalls its monitor), not a dead host: the move fails, the host stays up.
        return await self.fleet.links[m.host].call(
            fn, action=action, vm=m.vm, hung_means_lost=False
        )

    def dest_source(self, m: DiskMove) -> DiskSource:
        sd = self.storage.domain(m.dest.domain)
        assert sd is not None
        if sd.type == "iscsi":
            assert sd.portal and sd.target and sd.initiator
            host, _, port = sd.portal.rpartition(":")
            return DiskSource(
                "network",
                "raw",
                iqn=sd.target,
                lun=lun_of(m.dest.volume),
                host=host,
                port=port,
                initiator=sd.initiator,
            )
        return DiskSource("file", m.dest.format, path=m.dest.path)

    async def _watch(self, m: DiskMove, *, copy_xml: str | None = None) -> None:
        """Listens for the VM's block-job events (and starts the copy, if asked) in one call,
        so that no event of the job can come before the listener."""
        if m.id in self._watches and copy_xml is None:
            return
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Event] = asyncio.Queue()

        def on_event(_c: Any, _d: Any, disk: str, _type: int, status: int, _o: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (disk, status))
            except RuntimeError:
                pass  # the engine's loop has closed

        def go(conn: libvirt.virConnect) -> tuple[libvirt.virConnect, int]:
            dom = conn.lookupByUUIDString(m.vm_uuid)
            cid = conn.domainEventRegisterAny(
                dom, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, on_event, None
            )
            if copy_xml is not None:
                try:
                    params = {libvirt.VIR_DOMAIN_BLOCK_COPY_BANDWIDTH: m.bandwidth}
                    dom.blockCopy(
                        m.target_dev, copy_xml, params if m.bandwidth else None, COPY_FLAGS
                    )
                except libvirt.libvirtError:
                    conn.domainEventDeregisterAny(cid)
                    raise
            return conn, cid

        self._unwatch(m)
        self._watches[m.id] = await self._call(m, go, f"copy {m.target_dev} of {m.vm}")
        self._queues[m.id] = queue

    def _unwatch(self, m: DiskMove) -> None:
        found = self._watches.pop(m.id, None)
        self._queues.pop(m.id, None)
        if found is not None:
            # An RPC: never on the event loop (a stuck host would stall the engine).
            threading.Thread(target=_deregister, args=found, daemon=True).start()

    # -- stages ----------------------------------------------------------------------------
    async def create_target(self, m: DiskMove) -> DiskMove:
        sd = self.storage.domain(m.dest.domain)
        assert sd is not None
        if not self.storage.reading(sd.name, m.host).usable:
            raise FleetError(
                f"storage domain {sd.name} is not active on {m.host}", kind="unavailable", vm=m.vm
            )
        if sd.type == "iscsi":
            return await self._lun_target(m)
        source = next(
            (v for v in self.disks.volumes_of(m.source.domain) if v.name == m.source.volume), None
        )
        need = source.allocation if source else m.capacity
        free = self.storage.reading(sd.name, m.host).available
        if need > free:
            raise FleetError(
                f"storage domain {sd.name} is too full: the copy needs {_gib(need)}, "
                f"{_gib(free)} is free",
                kind="conflict",
                vm=m.vm,
            )
        stem = m.dest.volume.removesuffix(EXTENSION.get(m.dest.format, ""))
        req = VolumeRequest(stem, m.capacity, "raw" if m.dest.format == "raw" else "qcow2")
        made = await self._call(
            m,
            lambda c: volumes.create(c, sd.name, req),
            f"create the copy of {m.source.volume} on {sd.name}",
        )
        self.storage.request(sd.name)
        return replace(
            m, dest=replace(m.dest, volume=made.name, path=made.path), target_created=True
        )

    async def _lun_target(self, m: DiskMove) -> DiskMove:
        lun = await self._call(
            m,
            lambda c: volumes.info(volumes.volume(c, m.dest.domain, m.dest.volume)),
            f"look up {m.dest.volume} on {m.dest.domain}",
        )
        # libvirt 9.0's iscsi-direct reports a LUN one 512-byte block short (it counts READ
        # CAPACITY's last LBA as the number of blocks); QEMU sees the whole LUN.
        if lun.capacity + 512 < m.capacity:
            raise FleetError(
                f"LUN {m.dest.volume} holds {_gib(lun.capacity)}, the disk is "
                f"{_gib(m.capacity)}: choose a larger LUN",
                kind="conflict",
                vm=m.vm,
            )
        if self.disks.users(m.dest.domain, lun):
            raise FleetError(f"LUN {m.dest.volume} is in use", kind="conflict", vm=m.vm)
        # A LUN is the target's, not ovtui's: it is written over, never deleted.
        return replace(m, dest=replace(m.dest, path=lun.path, format="raw"), target_created=False)

    async def start_copy(self, m: DiskMove) -> None:
        await self._watch(m, copy_xml=self.dest_source(m).copy_xml())

    async def wait_ready(self, m: DiskMove, progress: Progress) -> None:
        resumed = m.id not in self._watches
        await self._watch(m)
        queue = self._queues[m.id]
        deadline = time.monotonic() + self.job_timeout
        while True:
            event = await _next(queue, 0.5)
            if event is not None:
                if event[0] != m.target_dev:
                    continue
                status = _STATUS.get(event[1], str(event[1]))
                if status == "ready":
                    progress(m.capacity, m.capacity)
                    return
                raise self._job_failed(m, status)
            info = await self._job_info(m)
            if not info:
                event = await _next(queue, 2.0)  # its FAILED event may still be on the way
                status = _STATUS.get(event[1], "") if event else ""
                raise self._job_failed(m, status or "gone")
            progress(info["cur"], info["end"])
            if resumed and info["end"] and info["cur"] == info["end"]:
                return  # its READY event came while no engine listened
            if time.monotonic() > deadline:
                raise FleetError(
                    f"the copy of {m.target_dev} did not get ready within {self.job_timeout:g} s",
                    kind="timeout",
                    vm=m.vm,
                )

    def _job_failed(self, m: DiskMove, status: str) -> FleetError:
        self._unwatch(m)
        return FleetError(
            f"the copy of {m.vm}'s {m.target_dev} to {m.dest.domain} ended: block job {status} "
            "(a size mismatch or an unreachable or full target); the VM stays on its source",
            kind="hypervisor",
            vm=m.vm,
        )

    async def _job_info(self, m: DiskMove) -> dict[str, int]:
        def info(conn: libvirt.virConnect) -> dict[str, int]:
            found: dict[str, int] = conn.lookupByUUIDString(m.vm_uuid).blockJobInfo(m.target_dev, 0)
            return found

        result: dict[str, int] = await self._call(m, info, f"read the copy of {m.target_dev}")
        return result

    async def pivot(self, m: DiskMove) -> None:
        def go(conn: libvirt.virConnect) -> None:
            dom = conn.lookupByUUIDString(m.vm_uuid)
            dom.blockJobAbort(m.target_dev, libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT)

        try:
            await self._call(m, go, f"switch {m.vm}'s {m.target_dev} to its copy")
        finally:
            self._unwatch(m)

    async def copy_volume(self, m: DiskMove, progress: Progress) -> DiskMove:
        sd = self.storage.domain(m.dest.domain)
        assert sd is not None
        if sd.type == "iscsi":
            raise FleetError(
                "a shut-off VM's disk cannot be copied to an iSCSI LUN by ovtui yet "
                "(start the VM for a live move, or choose a file domain)",
                kind="invalid",
                vm=m.vm,
            )
        stem = m.dest.volume.removesuffix(EXTENSION.get(m.dest.format, ""))
        xml, _flags = volume_xml(
            VolumeRequest(stem, m.capacity, "raw" if m.dest.format == "raw" else "qcow2")
        )

        def go(conn: libvirt.virConnect) -> volumes.VolumeInfo:
            src = volumes.volume(conn, m.source.domain, m.source.volume)
            return volumes.info(lookup_pool(conn, sd.name).createXMLFrom(xml, src, 0))

        made = await self.fleet.links[m.host].call(
            go,
            action=f"copy {m.source.volume} to {sd.name}",
            vm=m.vm,
            timeout=self.job_timeout,
            hung_means_lost=False,
        )
        progress(m.capacity, m.capacity)
        return replace(m, dest=replace(m.dest, volume=made.name, path=made.path))

    async def update_definition(self, m: DiskMove) -> None:
        dest = self.dest_source(m)

        def go(conn: libvirt.virConnect) -> None:
            dom = conn.lookupByUUIDString(m.vm_uuid)
            xml = point_at(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), m.target_dev, dest)
            if xml is not None:  # libvirt 9.0 already made the pivot persistent
                conn.defineXML(xml)

        await self._call(m, go, f"make {m.vm}'s definition use its new disk")
        await self.fleet.reread_vm(m.host, m.vm_uuid)

    async def delete_source(self, m: DiskMove) -> None:
        src = self.storage.domain(m.source.domain)
        assert src is not None
        host = self.disks.acting_host(src, prefer=m.host)
        await self.fleet.links[host].call(
            lambda c: volumes.delete(c, src.name, m.source.volume),
            action=f"delete {m.source.volume} from {src.name}",
            vm=m.vm,
        )
        self.disks.moved(m.source.domain, m.source.volume, m.dest.domain, m.dest.volume)
        self.storage.request(src.name)
        self.storage.request(m.dest.domain)

    async def cancel_copy(self, m: DiskMove) -> None:
        def go(conn: libvirt.virConnect) -> None:
            dom = conn.lookupByUUIDString(m.vm_uuid)
            if dom.blockJobInfo(m.target_dev, 0):
                # No pivot: the VM stays on its source. ASYNC: a copy stuck on a dead target
                # ends when QEMU gives up on it; nobody needs to wait for that.
                dom.blockJobAbort(m.target_dev, libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_ASYNC)

        try:
            if m.live:
                await self._call(m, go, f"cancel the copy of {m.target_dev}")
        finally:
            self._unwatch(m)

    async def delete_target(self, m: DiskMove) -> None:
        dest = self.storage.domain(m.dest.domain)
        assert dest is not None
        host = self.disks.acting_host(dest, prefer=m.host)
        await self.fleet.links[host].call(
            lambda c: volumes.delete(c, dest.name, m.dest.volume),
            action=f"remove the half-written {m.dest.volume} from {dest.name}",
            vm=m.vm,
        )
        self.storage.request(dest.name)

    async def job_running(self, m: DiskMove) -> bool:
        try:
            return bool(await self._job_info(m))
        except FleetError:
            return False

    async def uses_target(self, m: DiskMove) -> bool:
        dest = self.dest_source(m)

        def go(conn: libvirt.virConnect) -> bool:
            disk = find_disk(conn.lookupByUUIDString(m.vm_uuid).XMLDesc(0), m.target_dev)
            return disk is not None and dest.matches(disk)

        try:
            found: bool = await self._call(m, go, f"read {m.vm}'s disks")
            return found
        except FleetError:
            return False


def _deregister(conn: libvirt.virConnect, cid: int) -> None:
    try:
        conn.domainEventDeregisterAny(cid)
    except libvirt.libvirtError:
        pass  # the connection went away: so did the callback


async def _next(queue: asyncio.Queue[Event], seconds: float) -> Event | None:
    try:
        async with asyncio.timeout(seconds):
            return await queue.get()
    except TimeoutError:
        return None
