"""A poll's round trips to libvirt do not grow with the VMs; sizes from the XML match dom.info()."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libvirt

from ovtui.fleet.fleet import Fleet
from ovtui.fleet.reading import HostReading, parse_config, read_configs, read_host, with_configs
from ovtui.model import VM
from ovtui.testdriver_fleet import synthetic_spec
from tests.fleet.conftest import fleet_config

LOCAL = {"UUIDString", "name"}  # libvirt keeps these in the domain object: no round trip


class _Calls:
    """Counts every libvirt call made through a connection and the domains it hands out."""

    def __init__(self, conn: libvirt.virConnect) -> None:
        self.conn, self.calls = conn, 0

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.conn, name)

        def call(*args: Any) -> Any:
            self.calls += 1
            return self._wrap(real(*args))

        return call

    def _wrap(self, result: Any) -> Any:
        if isinstance(result, list):
            return [self._wrap(r) for r in result]
        if isinstance(result, tuple):
            return tuple(self._wrap(r) for r in result)
        if isinstance(result, libvirt.virDomain):
            return _Dom(result, self)
        return result


class _Dom:
    def __init__(self, dom: libvirt.virDomain, owner: _Calls) -> None:
        self.dom, self.owner = dom, owner

    def __getattr__(self, name: str) -> Any:
        real = getattr(self.dom, name)

        def call(*args: Any) -> Any:
            if name not in LOCAL:
                self.owner.calls += 1
            return real(*args)

        return call


def _poll_calls(vms: int, networks: tuple[tuple[str, str], ...] = ()) -> tuple[int, int, int]:
    """(calls of a first poll, of reading the configs it left pending, of the next poll)."""
    config = fleet_config(synthetic_spec(1, vms, seed=3))
    conn = libvirt.open(config.hosts[0].uri)
    try:
        counted = _Calls(conn)
        node = read_host(counted, {}).node
        counted.calls = 0
        reading = read_host(counted, {}, node)
        first = counted.calls
        assert len(reading.unread) == vms and all(d.config_pending for d in reading.domains)
        counted.calls = 0
        configs = read_configs(list(reading.unread.items()))
        fill = counted.calls
        counted.calls = 0
        reading = read_host(counted, configs, node, frozenset(), networks)
        assert len(reading.domains) == vms and not reading.unread
        assert set(reading.networks) == {n for n, _ in networks}
        return first, fill, counted.calls
    finally:
        conn.close()


def test_a_poll_costs_the_same_round_trips_for_5_and_for_60_vms() -> None:
    small, large = _poll_calls(5), _poll_calls(60)
    # getAllDomainStats + the transient listing, on first sight of the VMs too
    assert small[0] == large[0] == small[2] == large[2] == 2
    # their XML is read apart from the poll, once per VM, nothing else per VM
    assert small[1] == 5 and large[1] == 60


def _filled(conn: libvirt.virConnect, reading: HostReading) -> HostReading:
    return with_configs(reading, read_configs(list(reading.unread.items())))


def test_the_bridge_check_adds_round_trips_per_network_not_per_vm() -> None:
    nets = (("prod", "br-prod"), ("backup", "br-bk"))
    small, large = _poll_calls(5, nets), _poll_calls(60, nets)
    assert small[2] == large[2]  # the same for 5 and 60 VMs
    assert small[2] - 2 == _poll_calls(5, nets[:1])[2] * 2 - 4  # and the same for each network


def test_sizes_and_persistence_from_the_xml_match_what_dom_info_reports() -> None:
    config = fleet_config(synthetic_spec(1, 4, seed=5))
    conn = libvirt.open(config.hosts[0].uri)
    try:
        odd = conn.defineXML(
            "<domain type='test'><name>odd</name><memory unit='MiB'>3072</memory>"
            "<currentMemory unit='GiB'>2</currentMemory><vcpu current='2'>6</vcpu>"
            "<os><type>hvm</type></os></domain>"
        )
        odd.create()
        conn.createXML(  # transient: gone when it stops
            "<domain type='test'><name>fleeting</name><memory>524288</memory><vcpu>1</vcpu>"
            "<os><type>hvm</type></os></domain>"
        )
        reading = _filled(conn, read_host(conn, {}))
        assert len(reading.domains) == 6
        for d in reading.domains:
            dom = conn.lookupByUUIDString(d.uuid)
            _state, max_kib, cur_kib, vcpus, _cpu = dom.info()
            assert (d.vcpus, d.memory_mib, d.memory_current_mib) == (
                vcpus,
                max_kib // 1024,
                cur_kib // 1024,
            ), d.name
            assert d.persistent == bool(dom.isPersistent()), d.name
        by_name = {d.name: d for d in reading.domains}
        assert (by_name["odd"].vcpus, by_name["odd"].memory_mib) == (2, 3072)
        assert by_name["odd"].memory_current_mib == 2048
        assert not by_name["fleeting"].persistent
    finally:
        conn.close()


def test_a_config_without_sizes_reads_as_zero_not_an_error() -> None:
    cfg = parse_config("<domain type='test'><name>bare</name></domain>", active=False)
    assert (cfg.vcpus, cfg.memory_mib, cfg.memory_current_mib) == (0, 0, 0)


async def test_a_balloon_change_is_seen_by_the_next_poll(started: Callable[..., Any]) -> None:
    config = fleet_config(synthetic_spec(1, 3, seed=9), poll_interval_seconds=3600)
    fleet: Fleet = await started(config)
    host = config.hosts[0].name
    vm = next(v for v in fleet.snapshot().vms if v.active)
    half = vm.memory_mib * 1024 // 2

    def shrink(conn: libvirt.virConnect) -> None:
        conn.lookupByUUIDString(vm.uuid).setMemory(half)

    await fleet.links[host].call(shrink, action="balloon")
    await fleet.refresh(host)
    # polls do not read the XML again by themselves: the cached figure stands...
    assert _vm(fleet, vm.uuid).memory_current_mib == vm.memory_current_mib
    fleet._balloon_changed(host, vm.uuid)  # what libvirt's BALLOON_CHANGE event calls
    await fleet.refresh(host)
    assert _vm(fleet, vm.uuid).memory_current_mib == half // 1024


def _vm(fleet: Fleet, uuid: str) -> VM:
    found = fleet.snapshot().vm(uuid)
    assert found is not None
    return found
