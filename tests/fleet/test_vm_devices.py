"""Disks and NICs come from the domain XML, read once per VM and again after lifecycle events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import libvirt

from ovtui.fleet.fleet import Fleet
from ovtui.fleet.reading import VmConfig, read_configs, read_host, with_configs
from ovtui.model import VM, VmDevices
from ovtui.testdriver_fleet import FleetSpec
from ovtui.testdriver_fleet.files import vm_mac
from tests.fleet.conftest import fleet_config

CDROM = (
    '<disk type="file" device="cdrom"><source file="/srv/iso/rescue.iso"/>'
    '<target dev="sdb" bus="sata"/><readonly/></disk>'
)


async def _until(fleet: Fleet, uuid: str, ok: Callable[[VM], bool], what: str) -> VM:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        vm = fleet.snapshot().vm(uuid)
        # While its XML is read again (config_pending) a VM has no devices to look at.
        if vm is not None and not vm.config_pending and ok(vm):
            return vm
        await asyncio.sleep(0.02)
    raise AssertionError(f"{what} did not reach the snapshot within 30 s")


def _disks(vm: VM) -> list[str]:
    assert vm.devices is not None
    return [d.target for d in vm.devices.disks]


async def test_redefinition_refreshes_cached_devices(started, small_spec: FleetSpec) -> None:
    # Polls are a minute apart: only the "defined" event can make the new disk visible.
    fleet = await started(fleet_config(small_spec, poll_interval_seconds=60))
    host = small_spec.hosts[0]
    spec = host.vms[0]
    vm = fleet.snapshot().vm(spec.uuid)
    assert vm is not None and vm.devices is not None
    assert _disks(vm) == ["vda"]
    assert [n.mac for n in vm.devices.nics] == [vm_mac(spec)]
    conn = fleet.links[host.name].conn
    assert conn is not None

    def redefine() -> None:
        dom = conn.lookupByUUIDString(spec.uuid)
        if dom.isActive():
            dom.destroy()  # a running VM keeps its live devices until it restarts
        xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        conn.defineXML(xml.replace("</devices>", CDROM + "</devices>"))

    await asyncio.to_thread(redefine)
    vm = await _until(fleet, spec.uuid, lambda v: _disks(v) == ["vda", "sdb"], "the new CD-ROM")
    assert vm.devices is not None
    cdrom = vm.devices.disks[1]
    assert (cdrom.device, cdrom.source, cdrom.bus) == ("cdrom", "/srv/iso/rescue.iso", "sata")


async def test_nic_target_follows_start_and_stop(started, small_spec: FleetSpec) -> None:
    fleet = await started(fleet_config(small_spec, poll_interval_seconds=60))
    host = small_spec.hosts[0]
    spec = next(v for v in host.vms if v.running)
    conn = fleet.links[host.name].conn
    assert conn is not None

    def target(vm: VM) -> str:
        assert vm.devices is not None
        return vm.devices.nics[0].target

    assert target(await _until(fleet, spec.uuid, lambda v: True, "the VM")) != ""
    await asyncio.to_thread(lambda: conn.lookupByUUIDString(spec.uuid).destroy())
    await _until(fleet, spec.uuid, lambda v: target(v) == "", "the stopped VM's NIC")
    await asyncio.to_thread(lambda: conn.lookupByUUIDString(spec.uuid).create())
    await _until(fleet, spec.uuid, lambda v: target(v) != "", "the started VM's NIC")


class _CountingConn:
    """Counts XMLDesc calls of the domains it reports."""

    def __init__(self, conn: libvirt.virConnect) -> None:
        self._conn, self.xml_reads = conn, 0

    def getAllDomainStats(self, *args: int) -> list[tuple[object, dict]]:
        return [(_CountingDom(d, self), r) for d, r in self._conn.getAllDomainStats(*args)]

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)


class _CountingDom:
    def __init__(self, dom: libvirt.virDomain, owner: _CountingConn) -> None:
        self._dom, self._owner = dom, owner

    def XMLDesc(self, flags: int = 0) -> str:
        self._owner.xml_reads += 1
        return str(self._dom.XMLDesc(flags))

    def __getattr__(self, name: str) -> object:
        return getattr(self._dom, name)


def test_polls_read_the_xml_once_per_vm(small_spec: FleetSpec) -> None:
    config = fleet_config(small_spec)
    host = small_spec.hosts[0]
    conn = _CountingConn(libvirt.open(config.hosts[0].uri))
    try:
        first = read_host(conn, {})  # type: ignore[arg-type]
        assert conn.xml_reads == 0  # a poll reads no XML: unknown configs are pending
        assert all(d.config_pending and d.devices is None for d in first.domains)
        fresh: dict[str, VmConfig] = read_configs(list(first.unread.items()))
        assert conn.xml_reads == len(host.vms) == len(fresh)
        first = with_configs(first, fresh)
        again = read_host(conn, fresh)  # type: ignore[arg-type]
        assert conn.xml_reads == len(host.vms)  # the second poll read no XML at all
    finally:
        conn.close()
    assert [d.devices for d in again.domains] == [d.devices for d in first.domains]
    assert all(d.devices != VmDevices() for d in again.domains)


async def test_config_read_while_an_event_arrives_is_not_cached(
    started, small_spec: FleetSpec
) -> None:
    """A read that began before a 'defined' event may carry the old XML: it is not kept, so
    the poll the event asked for reads the new one."""
    fleet = await started(fleet_config(small_spec, poll_interval_seconds=60))
    host = small_spec.hosts[0].name
    uuid = small_spec.hosts[0].vms[0].uuid
    link = fleet.links[host]
    real_call = link.call

    async def call_with_event(fn, **kw):  # type: ignore[no-untyped-def]
        result = await real_call(fn, **kw)
        fleet._lifecycle(host, uuid, 0, 1)  # "defined" lands while the read is out
        return result

    fleet._configs[host].clear()
    link.call = call_with_event  # type: ignore[method-assign]
    try:
        await fleet.refresh(host)
    finally:
        link.call = real_call  # type: ignore[method-assign]
    assert uuid not in fleet._configs[host]
    assert len(fleet._configs[host]) == len(small_spec.hosts[0].vms) - 1


async def test_an_event_during_a_poll_gets_a_read_of_its_own(
    started, small_spec: FleetSpec
) -> None:
    """The poll loop keeps a wake-up that arrives while a read is out: the VM's config is read
    again at once, not a poll interval (here a minute) later."""
    fleet = await started(fleet_config(small_spec, poll_interval_seconds=60))
    host = small_spec.hosts[0].name
    uuid = small_spec.hosts[0].vms[0].uuid
    link = fleet.links[host]
    real_call = link.call
    reads = 0

    async def call_with_event(fn, **kw):  # type: ignore[no-untyped-def]
        nonlocal reads
        result = await real_call(fn, **kw)
        if kw.get("action") == "list VMs":
            reads += 1
            if reads == 1:
                fleet._lifecycle(host, uuid, 0, 1)  # "defined" lands while the read is out
        return result

    fleet._configs[host].clear()
    link.call = call_with_event  # type: ignore[method-assign]
    try:
        fleet.request_refresh(host)
        deadline = time.monotonic() + 30
        while not (reads >= 1 and uuid in fleet._configs[host]):
            assert time.monotonic() < deadline, f"not read again ({reads} reads)"
            await asyncio.sleep(0.02)
    finally:
        link.call = real_call  # type: ignore[method-assign]
    assert reads >= 2


def test_a_vm_started_after_its_reading_gets_its_nic_device(small_spec: FleetSpec) -> None:
    """The reading said shut off, the VM started before its XML was read (a cold move defines,
    then starts): the XML's own word decides, so its NIC's host device is known. It was left
    out, from the reading's stale state, until the next event."""
    config = fleet_config(small_spec)
    started_vm, stopped_vm = (v.uuid for v in small_spec.hosts[0].vms[:2])
    conn = libvirt.open(config.hosts[0].uri)
    try:
        for uuid in (started_vm, stopped_vm):
            dom = conn.lookupByUUIDString(uuid)
            if dom.isActive():
                dom.destroy()
        reading = read_host(conn, {})
        states = {d.uuid: d.state.value for d in reading.domains}
        assert states[started_vm] == states[stopped_vm] == "shutoff"
        conn.lookupByUUIDString(started_vm).create()  # started before the fill reads it
        fresh = read_configs(list(reading.unread.items()))
    finally:
        conn.close()
    assert fresh[started_vm].devices.nics[0].target != ""
    # the test driver names a device even for a stopped VM: not shown
    assert fresh[stopped_vm].devices.nics[0].target == ""
