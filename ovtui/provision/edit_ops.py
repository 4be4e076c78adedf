"""Changing a defined VM on its host: size live where libvirt allows it, else in the persistent
definition (the next start); flags and description in <metadata>. Blocking: run through
HostLink.call. Returns, per field, how it was applied: "live", "next start" or "defined"
(the VM is shut off: it has them when it starts)."""

from __future__ import annotations

from dataclasses import dataclass

import libvirt

from ovtui.provision.domain_xml import METADATA_NS

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG


@dataclass(frozen=True, slots=True)
class Edit:
    vcpus: int | None = None
    memory_mib: int | None = None
    description: str | None = None
    meta_xml: str | None = None  # the whole <vm .../> element of the ovtui namespace


def _vcpus(dom: libvirt.virDomain, n: int, active: bool) -> str:
    if active:
        try:
            dom.setVcpusFlags(n, LIVE | CONFIG)
            return "live"
        except libvirt.libvirtError:
            pass  # beyond the maximum, or the guest cannot hot-plug: the next start has it
    top = dom.vcpusFlags(CONFIG | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
    if n > top:
        dom.setVcpusFlags(n, CONFIG | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
        dom.setVcpusFlags(n, CONFIG)
    else:
        dom.setVcpusFlags(n, CONFIG)
        dom.setVcpusFlags(n, CONFIG | libvirt.VIR_DOMAIN_VCPU_MAXIMUM)
    return "next start" if active else "defined"


def _memory(dom: libvirt.virDomain, mib: int, active: bool) -> str:
    kib = mib * 1024
    if active:
        try:
            dom.setMemoryFlags(kib, LIVE | CONFIG)  # the balloon: up to the maximum
            return "live"
        except libvirt.libvirtError:
            pass
    grow = kib > dom.maxMemory() if not active else True
    steps = [CONFIG | libvirt.VIR_DOMAIN_MEM_MAXIMUM, CONFIG]
    for flags in steps if grow else reversed(steps):
        dom.setMemoryFlags(kib, flags)
    return "next start" if active else "defined"


def apply(conn: libvirt.virConnect, uuid: str, edit: Edit) -> dict[str, str]:
    dom = conn.lookupByUUIDString(uuid)
    active = bool(dom.isActive())
    how: dict[str, str] = {}
    if edit.vcpus is not None:
        how["vcpus"] = _vcpus(dom, edit.vcpus, active)
    if edit.memory_mib is not None:
        how["memory_mib"] = _memory(dom, edit.memory_mib, active)
    flags = (LIVE | CONFIG) if active else CONFIG
    if edit.description is not None:
        dom.setMetadata(
            libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, edit.description, None, None, flags
        )
        how["description"] = "live" if active else "defined"
    if edit.meta_xml is not None:
        dom.setMetadata(
            libvirt.VIR_DOMAIN_METADATA_ELEMENT, edit.meta_xml, "ovtui", METADATA_NS, flags
        )
        how["flags"] = "live" if active else "defined"
    return how
