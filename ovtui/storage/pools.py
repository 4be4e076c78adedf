"""Realising a storage domain as a libvirt pool on one host. Blocking: run through HostLink.call.

define (if the host has no such pool) -> build if it must be -> start (if inactive) -> refresh
-> info. Every step is idempotent, so the engine runs the same function on first sight, after a
reconnect and on each refresh.
"""

from __future__ import annotations

import time

import libvirt

from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.storage.model import POOL_STATES, PoolReading, VolumeInfo
from ovtui.storage.pool_xml import pool_name, pool_xml


def ensure_pool(conn: libvirt.virConnect, sd: StorageDomainConfig, host: str) -> PoolReading:
    pool = _lookup(conn, pool_name(sd.name))
    if pool is None:
        pool = conn.storagePoolDefineXML(pool_xml(sd), 0)
    if not pool.isActive():
        _start(pool, sd)
    pool.refresh(0)
    return read_pool(pool, sd.name, host)


def read_pool(pool: libvirt.virStoragePool, domain: str, host: str) -> PoolReading:
    state, capacity, allocation, available = pool.info()
    return PoolReading(
        domain=domain,
        host=host,
        state=POOL_STATES.get(state, f"state {state}"),
        capacity=capacity,
        allocation=allocation,
        available=available,
        read_at=time.time(),
        volumes=tuple(_volumes(pool)) if state == libvirt.VIR_STORAGE_POOL_RUNNING else (),
    )


def _volumes(pool: libvirt.virStoragePool) -> list[VolumeInfo]:
    out = []
    for vol in pool.listAllVolumes(0):
        try:
            _type, capacity, allocation = vol.info()
            out.append(VolumeInfo(vol.name(), vol.path(), capacity, allocation))
        except libvirt.libvirtError:
            continue  # deleted while we listed
    return sorted(out, key=lambda v: v.name)


def lookup_pool(conn: libvirt.virConnect, domain: str) -> libvirt.virStoragePool:
    """The domain's pool on this host; raises libvirtError (no pool) if it was never realised."""
    return conn.storagePoolLookupByName(pool_name(domain))


def _start(pool: libvirt.virStoragePool, sd: StorageDomainConfig) -> None:
    if sd.type == "local":
        pool.build(0)  # mkdir: a host-local directory is the engine's to create
    try:
        pool.create(0)
    except libvirt.libvirtError:
        if sd.type != "fs":
            raise
        # A blank device cannot be mounted: format it, but never over an existing filesystem
        # (NO_OVERWRITE refuses a device that holds any signature), then mount.
        pool.build(libvirt.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE)
        pool.create(0)


def _lookup(conn: libvirt.virConnect, name: str) -> libvirt.virStoragePool | None:
    try:
        return conn.storagePoolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
            return None
        raise
