"""Moving a VM between hosts, as blocking functions of the source connection.

live:    libvirt live migration (managed: this process drives both connections). With the target's
         migration_uri, the data goes there and the target listens on that URI's address only
         (VIR_MIGRATE_PARAM_LISTEN_ADDRESS), whatever the daemons' global settings. Returns the
         completed job's figures: downtime_ms, job_ms, transferred_mib (when the driver has them).
offline: a shut-off VM is defined on the target, then undefined on the source.
cold:    the driver cannot migrate live (test driver): define on target, stop on source, start on
         target, undefine on source. The VM restarts; every report says "cold".
Each keeps the VM where it was when a step fails. Each returns a dict of figures (empty if none).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import libvirt

Figures = dict[str, Any]
Op = Callable[[libvirt.virConnect], Figures]

LIVE_FLAGS = (
    libvirt.VIR_MIGRATE_LIVE
    | libvirt.VIR_MIGRATE_PERSIST_DEST
    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    | libvirt.VIR_MIGRATE_ABORT_ON_ERROR
)
_XML_FLAGS = libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE


def live_params(migration_uri: str | None) -> dict[str, str]:
    """migrate3 parameters for a target reached at migration_uri ("tcp://10.0.0.11[:port]")."""
    if not migration_uri:
        return {}
    params = {libvirt.VIR_MIGRATE_PARAM_URI: migration_uri}
    address = urlsplit(migration_uri).hostname  # IPv6 without brackets, as libvirt wants it
    if address:
        params[libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS] = address
    return params


def job_figures(stats: dict[str, Any]) -> Figures:
    """The figures of a completed migration job (virDomainGetJobStats), in the outcome's units."""
    figures: Figures = {}
    if libvirt.VIR_DOMAIN_JOB_DOWNTIME in stats:
        figures["downtime_ms"] = int(stats[libvirt.VIR_DOMAIN_JOB_DOWNTIME])
    if libvirt.VIR_DOMAIN_JOB_TIME_ELAPSED in stats:
        figures["job_ms"] = int(stats[libvirt.VIR_DOMAIN_JOB_TIME_ELAPSED])
    if libvirt.VIR_DOMAIN_JOB_DATA_PROCESSED in stats:
        figures["transferred_mib"] = round(stats[libvirt.VIR_DOMAIN_JOB_DATA_PROCESSED] / 2**20, 1)
    return figures


def live(
    uuid: str, dconn: libvirt.virConnect, migration_uri: str | None, shared_disks: bool = False
) -> Op:
    """shared_disks: every disk is on a storage domain the config declares shared, so nothing
    is copied; libvirt cannot tell a shared directory from a local one unless it is NFS, GFS2,
    CephFS..., and refuses "unsafe" otherwise, hence VIR_MIGRATE_UNSAFE then (and only then)."""
    flags = LIVE_FLAGS | (libvirt.VIR_MIGRATE_UNSAFE if shared_disks else 0)

    def run(conn: libvirt.virConnect) -> Figures:
        dom = conn.lookupByUUIDString(uuid)
        moved = dom.migrate3(dconn, live_params(migration_uri), flags)
        try:
            # The target keeps the completed job's statistics (the source's domain is gone).
            stats = moved.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
        except libvirt.libvirtError:
            return {}  # the migration is done; only its figures are missing
        return job_figures(stats)

    return run


def offline(uuid: str, dconn: libvirt.virConnect) -> Op:
    def run(conn: libvirt.virConnect) -> Figures:
        dom = conn.lookupByUUIDString(uuid)
        moved = dconn.defineXML(dom.XMLDesc(_XML_FLAGS))
        try:
            dom.undefine()
        except libvirt.libvirtError:
            moved.undefine()  # keep exactly one definition: the original
            raise
        return {}

    return run


def cold(uuid: str, dconn: libvirt.virConnect) -> Op:
    def run(conn: libvirt.virConnect) -> Figures:
        dom = conn.lookupByUUIDString(uuid)
        persistent = bool(dom.isPersistent())
        moved = dconn.defineXML(dom.XMLDesc(_XML_FLAGS))
        try:
            dom.destroy()
        except libvirt.libvirtError:
            moved.undefine()
            raise
        try:
            moved.create()
        except libvirt.libvirtError:
            moved.undefine()
            dom.create()  # back where it was, running again
            raise
        if persistent:
            dom.undefine()
        return {}

    return run


def abort_job(uuid: str) -> Callable[[libvirt.virConnect], None]:
    def run(conn: libvirt.virConnect) -> None:
        try:
            conn.lookupByUUIDString(uuid).abortJob()
        except libvirt.libvirtError:
            pass  # the job ended by itself meanwhile

    return run
