"""Disks: volumes in storage domains, created, grown, deleted, attached and detached.

What ovtui creates is recorded in the engine's store (table `disks`); sizes come from the
storage service's cached pool readings (refreshed after each operation), never from a read per
request. Which VM uses a volume comes from the published snapshot (each VM's disks).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.fleet.errors import FleetError
from ovtui.fleet.fleet import Fleet
from ovtui.model import VM
from ovtui.storage import volumes
from ovtui.storage.model import VolumeInfo
from ovtui.storage.move_xml import DiskSource, lun_of
from ovtui.storage.pool_xml import domain_of_pool, pool_name
from ovtui.storage.service import StorageService
from ovtui.storage.views import summary
from ovtui.storage.volume_xml import (
    EXTENSION,
    VolumeRequest,
    disk_xml,
    format_of_volume,
    next_target,
)
from ovtui.store import Store

TABLE = "disks"
GIB = 1 << 30


@dataclass(frozen=True, slots=True)
class User:
    """A VM whose definition holds a volume, and as which device."""

    vm: VM
    target: str


def _gib(n: int) -> str:
    return f"{n / GIB:.1f} GiB"


class DiskService:
    def __init__(self, storage: StorageService, fleet: Fleet, store: Store) -> None:
        self.storage, self.fleet, self.store = storage, fleet, store

    # -- reading ---------------------------------------------------------------------------
    def volumes_of(self, domain: str) -> list[VolumeInfo]:
        readings = [self.storage.reading(domain, h) for h in self.storage.hosts(domain)]
        best = summary(readings)
        sd = self.storage.domain(domain)
        vols = list(best.volumes) if best else []
        if sd is not None and sd.type == "iscsi":
            # LUN 0 of a target is often its controller (size 0), not a disk anyone can use.
            vols = [v for v in vols if v.capacity > 0]
        return vols

    def records(self, domain: str | None = None) -> list[dict[str, Any]]:
        rows = self.store.table(TABLE).all()
        return [dict(r) for r in rows if domain in (None, r["domain"])]

    def listing(self, domain: str | None = None) -> list[dict[str, Any]]:
        """Every volume of every (or one) domain, with its record and its users."""
        out = []
        for sd in self.storage.domains():
            if domain not in (None, sd.name):
                continue
            recs = {r["volume"]: r for r in self.records(sd.name)}
            for vol in self.volumes_of(sd.name):
                out.append(self._row(sd, vol, recs.get(vol.name)))
        return out

    def _row(self, sd: StorageDomainConfig, vol: VolumeInfo, rec: dict[str, Any] | None) -> dict:
        users = self.users(sd.name, vol)
        return {
            "name": rec["name"] if rec else vol.name,
            "domain": sd.name,
            "volume": vol.name,
            "path": vol.path,
            "format": rec["format"] if rec else format_of_volume(vol.name),
            "allocation_policy": rec["allocation"] if rec else "unknown",
            "capacity_bytes": vol.capacity,
            "allocation_bytes": vol.allocation,
            "managed": rec is not None,  # created by ovtui (recorded in its store)
            "vms": [{"vm": u.vm.name, "uuid": u.vm.uuid, "target": u.target} for u in users],
        }

    def refs(self, domain: str, vol: VolumeInfo) -> set[str]:
        """How a VM's disk (model.Disk.source) can name this volume: pool/volume, its path,
        or for an iSCSI LUN the network source libvirt writes after a blockCopy."""
        found = {f"{pool_name(domain)}/{vol.name}", vol.path}
        sd = self.storage.domain(domain)
        if sd is not None and sd.type == "iscsi" and vol.name.startswith("unit:"):
            found.add(f"iscsi:{sd.target}/{vol.name.rsplit(':', 1)[-1]}")
        return found

    def users(self, domain: str, vol: VolumeInfo) -> list[User]:
        refs = self.refs(domain, vol)
        found = []
        for vm in self.fleet.snapshot().vms:
            for d in vm.devices.disks if vm.devices else ():
                if d.source in refs:
                    found.append(User(vm, d.target))
        return found

    def moved(self, src_domain: str, src_volume: str, dst_domain: str, dst_volume: str) -> None:
        """A disk move finished: its record (if ovtui made the disk) follows it."""
        table = self.store.table(TABLE)
        for r in table.all():
            if r["domain"] == src_domain and r["volume"] == src_volume:
                fmt = "raw" if dst_volume.startswith("unit:") else r["format"]
                table.update(
                    {"domain": dst_domain, "volume": dst_volume, "format": fmt}, doc_ids=[r.doc_id]
                )

    def _unread_vms(self, sd: StorageDomainConfig) -> list[str]:
        hosts = set(self.storage.hosts(sd.name))
        return [v.name for v in self.fleet.snapshot().vms if v.host in hosts and v.devices is None]

    def find(self, domain: str, disk: str) -> tuple[StorageDomainConfig, VolumeInfo, dict | None]:
        sd = self._domain(domain)
        recs = self.records(domain)
        rec = next((r for r in recs if disk in (r["name"], r["volume"])), None)
        volume = rec["volume"] if rec else disk
        vol = next((v for v in self.volumes_of(domain) if v.name == volume), None)
        if vol is None:
            names = ", ".join(v.name for v in self.volumes_of(domain)) or "none"
            raise FleetError(
                f"storage domain {domain} has no disk {disk!r} (disks: {names})", kind="not_found"
            )
        return sd, vol, rec

    def vm_disks(self, vm: VM) -> list[dict[str, Any]]:
        """A VM's disks with their domain, format, capacity and allocation where ovtui knows."""
        out = []
        for d in vm.devices.disks if vm.devices else ():
            row: dict[str, Any] = {
                "target": d.target,
                "device": d.device,
                "bus": d.bus,
                "source_type": d.source_type,
                "source": d.source,
                "domain": None,
                "volume": None,
                "format": None,
                "capacity_bytes": None,
                "allocation_bytes": None,
            }
            for sd in self.storage.domains():
                for vol in self.volumes_of(sd.name):
                    if d.source in self.refs(sd.name, vol):
                        rec = next(
                            (r for r in self.records(sd.name) if r["volume"] == vol.name), None
                        )
                        row.update(
                            domain=sd.name,
                            volume=vol.name,
                            format=rec["format"] if rec else format_of_volume(vol.name),
                            capacity_bytes=vol.capacity,
                            allocation_bytes=vol.allocation,
                        )
            if row["domain"] is None and d.source_type == "volume":
                row["domain"] = domain_of_pool(d.source.partition("/")[0])
            out.append(row)
        return out

    # -- acting ----------------------------------------------------------------------------
    def _domain(self, name: str) -> StorageDomainConfig:
        sd = self.storage.domain(name)
        if sd is None:
            names = ", ".join(d.name for d in self.storage.domains()) or "none configured"
            raise FleetError(
                f"no storage domain named {name!r} (domains: {names})", kind="not_found"
            )
        return sd

    def acting_host(self, sd: StorageDomainConfig, prefer: str | None = None) -> str:
        """A host where the domain's pool is active now (prefer: the VM's host)."""
        hosts = list(self.storage.hosts(sd.name))
        if prefer in hosts:
            hosts.remove(prefer)
            hosts.insert(0, prefer)
        why = []
        for h in hosts:
            r = self.storage.reading(sd.name, h)
            if r.usable:
                return h
            why.append(f"{h}: {r.state}{' (' + r.error + ')' if r.error else ''}")
        raise FleetError(
            f"no host can use storage domain {sd.name} now ({'; '.join(why)})", kind="unavailable"
        )

    async def _after(self, sd: StorageDomainConfig, host: str) -> None:
        # Everyone sees the change in the next reading; the acting host right now.
        await self.storage.refresh(sd.name, host)
        self.storage.request(sd.name)

    async def create(
        self, domain: str, req: VolumeRequest, actor: str, prefer: str | None = None
    ) -> dict[str, Any]:
        """`prefer`: make it through this host if the domain is active there (provisioning
        makes a new VM's disks on the host it chose)."""
        sd = self._domain(domain)
        if sd.type == "iscsi":
            raise FleetError(
                f"storage domain {domain} is iSCSI: its disks are the target's LUNs, made on the "
                "target; attach one of those (ovtui disk list --domain " + domain + ")",
                kind="invalid",
            )
        if any(r["name"] == req.name for r in self.records(domain)) or any(
            v.name == req.volume for v in self.volumes_of(domain)
        ):
            raise FleetError(
                f"storage domain {domain} already has a disk {req.name!r}", kind="conflict"
            )
        host = self.acting_host(sd, prefer)
        reading = self.storage.reading(domain, host)
        warnings = []
        if req.preallocated and req.capacity > reading.available:
            raise FleetError(
                f"a preallocated {_gib(req.capacity)} disk does not fit in storage domain "
                f"{domain}: {_gib(reading.available)} free; make it smaller or thin",
                kind="conflict",
            )
        if not req.preallocated:
            provisioned = sum(v.capacity for v in reading.volumes) + req.capacity
            ratio = provisioned / reading.capacity if reading.capacity else float("inf")
            if req.capacity > reading.available or ratio > 1:
                warnings.append(
                    f"thin disk of {_gib(req.capacity)} on {domain} with {_gib(reading.available)}"
                    f" free: disks there could grow to {ratio * 100:.0f}% of its "
                    f"{_gib(reading.capacity)} (over-commit)"
                )
        info = await self.fleet.links[host].call(
            lambda conn: volumes.create(conn, domain, req), action=f"create disk {req.name}"
        )
        self.store.table(TABLE).insert(
            {
                "name": req.name,
                "domain": domain,
                "volume": info.name,
                "format": req.format,
                "allocation": req.allocation,
                "created_by": actor,
                "created_at": time.time(),
            }
        )
        await self._after(sd, host)
        return {
            "result": f"created {req.name} on {domain}",
            "warnings": warnings,
            "disk": self._row(sd, info, self.records(domain)[-1]),
        }

    async def grow(self, domain: str, disk: str, size: int) -> dict[str, Any]:
        sd, vol, rec = self.find(domain, disk)
        if size <= vol.capacity:
            raise FleetError(
                f"{disk} is already {_gib(vol.capacity)}: a disk only grows (asked {_gib(size)})",
                kind="invalid",
            )
        allocate = bool(rec and rec["allocation"] == "preallocated")
        running = [u for u in self.users(domain, vol) if u.vm.active]
        host = self.acting_host(sd, running[0].vm.host if running else None)
        reading = self.storage.reading(domain, host)
        if allocate and size - vol.capacity > reading.available:
            raise FleetError(
                f"growing preallocated {disk} by {_gib(size - vol.capacity)} does "
                f"not fit: {_gib(reading.available)} free on {domain}",
                kind="conflict",
            )
        if running:
            user = running[0]
            host = user.vm.host
            info = await self.fleet.links[host].call(
                lambda conn: volumes.grow_live(
                    conn, domain, vol.name, user.vm.uuid, user.target, size
                ),
                action=f"grow disk {disk} of {user.vm.name}",
            )
        else:
            info = await self.fleet.links[host].call(
                lambda conn: volumes.grow(conn, domain, vol.name, size, allocate),
                action=f"grow disk {disk}",
            )
        await self._after(sd, host)
        return {
            "result": f"{disk} grown to {_gib(info.capacity)}",
            "capacity_bytes": info.capacity,
            "allocation_bytes": info.allocation,
        }

    async def delete(self, domain: str, disk: str) -> dict[str, Any]:
        sd, vol, _rec = self.find(domain, disk)
        users = self.users(domain, vol)
        if users:
            who = ", ".join(f"{u.vm.name} ({u.target})" for u in users)
            raise FleetError(f"{disk} is in use by {who}: detach it first", kind="conflict")
        unread = self._unread_vms(sd)
        if unread:
            raise FleetError(
                f"cannot tell yet whether {', '.join(unread[:5])} use {disk} (their "
                "disks are not read yet): try again in a few seconds",
                kind="unavailable",
            )
        host = self.acting_host(sd)
        await self.fleet.links[host].call(
            lambda conn: volumes.delete(conn, domain, vol.name), action=f"delete disk {disk}"
        )
        self.store.table(TABLE).remove(doc_ids=self._doc_ids(domain, vol.name))
        await self._after(sd, host)
        return {"result": f"deleted {disk} from {domain}"}

    def _owner(self, source: str) -> tuple[StorageDomainConfig, VolumeInfo] | None:
        for sd in self.storage.domains():
            for vol in self.volumes_of(sd.name):
                if source in self.refs(sd.name, vol):
                    return sd, vol
        return None

    @staticmethod
    def _source_of(sd: StorageDomainConfig, vol: VolumeInfo, source: str) -> DiskSource:
        if sd.type == "iscsi":
            assert sd.portal and sd.target and sd.initiator
            host, _, port = sd.portal.rpartition(":")
            return DiskSource(
                "network",
                "raw",
                iqn=sd.target,
                lun=lun_of(vol.name),
                host=host,
                port=port,
                initiator=sd.initiator,
            )
        return DiskSource("file", format_of_volume(vol.name), path=vol.path)

    def _doc_ids(self, domain: str, volume: str) -> list[int]:
        return [
            r.doc_id
            for r in self.store.table(TABLE).all()
            if r["domain"] == domain and r["volume"] == volume
        ]

    async def attach(self, vm: VM, domain: str, disk: str) -> dict[str, Any]:
        _sd, vol, rec = self.find(domain, disk)
        if vm.host not in self.storage.hosts(domain):
            raise FleetError(
                f"{vm.name} runs on {vm.host}, which does not see storage domain "
                f"{domain} (its hosts: {', '.join(self.storage.hosts(domain))})",
                kind="conflict",
                vm=vm.name,
            )
        if not self.storage.reading(domain, vm.host).usable:
            raise FleetError(
                f"storage domain {domain} is not active on {vm.host}",
                kind="unavailable",
                vm=vm.name,
            )
        users = self.users(domain, vol)
        if users:
            who = ", ".join(f"{u.vm.name} ({u.target})" for u in users)
            raise FleetError(f"{disk} is already attached to {who}", kind="conflict", vm=vm.name)
        if vm.devices is None:
            raise FleetError(
                f"{vm.name}'s devices are not read yet: try again shortly",
                kind="unavailable",
                vm=vm.name,
            )
        target = next_target({d.target for d in vm.devices.disks})
        fmt = rec["format"] if rec else format_of_volume(vol.name)
        xml = disk_xml(pool_name(domain), vol.name, fmt, target)
        await self.fleet.links[vm.host].call(
            lambda conn: volumes.attach(conn, vm.uuid, xml, vm.active, (domain, vol.name)),
            action=f"attach {disk} to {vm.name}",
            vm=vm.name,
        )
        await self.fleet.reread_vm(vm.host, vm.uuid)
        how = "hot-plugged into running" if vm.active else "added to"
        return {"result": f"{disk} {how} {vm.name} as {target}", "target": target}

    async def detach(self, vm: VM, target: str) -> dict[str, Any]:
        disk = (
            next((d for d in vm.devices.disks if d.target == target), None) if vm.devices else None
        )
        if disk is None:
            have = ", ".join(d.target for d in vm.devices.disks) if vm.devices else "not read yet"
            raise FleetError(
                f"{vm.name} has no disk {target} (its disks: {have})",
                kind="not_found",
                vm=vm.name,
            )
        if disk.source_type == "volume" and domain_of_pool(disk.source.partition("/")[0]):
            pool, _, vol = disk.source.partition("/")
            xml = disk_xml(pool, vol, format_of_volume(vol), target)
        else:  # a moved disk: blockCopy left a file or network source on a domain's volume
            owner = self._owner(disk.source)
            if owner is None:
                raise FleetError(
                    f"{vm.name}'s {target} is not on an ovtui storage domain "
                    f"({disk.source_type} {disk.source}): ovtui detaches only its own",
                    kind="invalid",
                    vm=vm.name,
                )
            sd, volume = owner
            vol = volume.name
            xml = self._source_of(sd, volume, disk.source).device_xml(target)
        await self.fleet.links[vm.host].call(
            lambda conn: volumes.detach(conn, vm.uuid, xml, vm.active),
            action=f"detach {target} from {vm.name}",
            vm=vm.name,
        )
        await self.fleet.reread_vm(vm.host, vm.uuid)
        return {
            "result": f"{target} ({vol}) detached from {vm.name}"
            + (" (the guest is asked to release it)" if vm.active else "")
        }


__all__ = ["EXTENSION", "DiskService", "VolumeRequest"]
