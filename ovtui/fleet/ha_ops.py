"""What an HA restart needs from a host, as blocking functions of a connection."""

from __future__ import annotations

from collections.abc import Callable

import libvirt

from ovtui.fleet.errors import is_no_domain

Op = Callable[[libvirt.virConnect], str]


def inactive_xml(uuid: str) -> Op:
    """The VM's persistent definition, to define it on another host after a fence."""

    def run(conn: libvirt.virConnect) -> str:
        return str(conn.lookupByUUIDString(uuid).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))

    return run


def define_and_start(xml: str, uuid: str) -> Op:
    """Defines the VM on this host and starts it. A definition this call made is removed again
    if the start fails (QEMU refused a locked disk, say): a retry may pick another host, and a
    stale definition left here could be started by someone later."""

    def run(conn: libvirt.virConnect) -> str:
        try:
            conn.lookupByUUIDString(uuid)
            existed = True
        except libvirt.libvirtError as exc:
            if not is_no_domain(exc):
                raise
            existed = False
        dom = conn.defineXML(xml)
        if not dom.isActive():
            try:
                dom.create()
            except libvirt.libvirtError:
                if not existed and not dom.isActive():
                    dom.undefine()
                raise
        return str(dom.name())

    return run


def start(uuid: str) -> Op:
    def run(conn: libvirt.virConnect) -> str:
        dom = conn.lookupByUUIDString(uuid)
        if not dom.isActive():
            dom.create()
        return str(dom.name())

    return run


def undefine_if_inactive(uuid: str) -> Op:
    """A fenced host's stale definition of a VM that now runs elsewhere: removed, never run."""

    def run(conn: libvirt.virConnect) -> str:
        dom = conn.lookupByUUIDString(uuid)
        if dom.isActive():
            return "active: kept"
        dom.undefine()
        return "undefined"

    return run
