"""Moving a VM between hosts, as blocking functions of the source connection.

live:    libvirt live migration (managed: this process drives both connections).
offline: a shut-off VM is defined on the target, then undefined on the source.
cold:    the driver cannot migrate live (test driver): define on target, stop on source, start on
         target, undefine on source. The VM restarts; every report says "cold".
Each keeps the VM where it was when a step fails.
"""

from __future__ import annotations

from collections.abc import Callable

import libvirt

Op = Callable[[libvirt.virConnect], None]

LIVE_FLAGS = (
    libvirt.VIR_MIGRATE_LIVE
    | libvirt.VIR_MIGRATE_PERSIST_DEST
    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    | libvirt.VIR_MIGRATE_ABORT_ON_ERROR
)
_XML_FLAGS = libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE


def live(uuid: str, dconn: libvirt.virConnect, migration_uri: str | None) -> Op:
    def run(conn: libvirt.virConnect) -> None:
        dom = conn.lookupByUUIDString(uuid)
        params = {libvirt.VIR_MIGRATE_PARAM_URI: migration_uri} if migration_uri else {}
        dom.migrate3(dconn, params, LIVE_FLAGS)

    return run


def offline(uuid: str, dconn: libvirt.virConnect) -> Op:
    def run(conn: libvirt.virConnect) -> None:
        dom = conn.lookupByUUIDString(uuid)
        moved = dconn.defineXML(dom.XMLDesc(_XML_FLAGS))
        try:
            dom.undefine()
        except libvirt.libvirtError:
            moved.undefine()  # keep exactly one definition: the original
            raise

    return run


def cold(uuid: str, dconn: libvirt.virConnect) -> Op:
    def run(conn: libvirt.virConnect) -> None:
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

    return run


def abort_job(uuid: str) -> Op:
    def run(conn: libvirt.virConnect) -> None:
        try:
            conn.lookupByUUIDString(uuid).abortJob()
        except libvirt.libvirtError:
            pass  # the job ended by itself meanwhile

    return run
