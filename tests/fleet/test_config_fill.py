"""The first view does not wait for the domain XMLs: VMs are served config_pending, then filled.

The XML reads are held back by a gate (no timing involved): the first view is complete in
hosts and VMs while every VM says its config is pending, and the polls go on without it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from collectors.synthetic_load import SyntheticLoad
from ovtui.api.serialize import to_dict
from ovtui.config import Config
from ovtui.fleet.fleet import Fleet
from ovtui.fleet.migration_checks import refusal
from ovtui.model import VM, Host, HostState, Snapshot, VmState
from ovtui.testdriver_fleet import FleetSpec
from tests.fleet.conftest import fleet_config

CONFIG_READ = "read VM configs"


def _gated(fleet: Fleet, gate: asyncio.Event, seen: list[str]) -> None:
    """Every host's config reads wait for `gate`; `seen` records the action of every call."""
    for link in fleet.links.values():
        real = link.call

        async def call(fn: Any, *, real: Callable[..., Awaitable[Any]] = real, **kw: Any) -> Any:
            seen.append(kw["action"])
            if kw["action"] == CONFIG_READ:
                await gate.wait()
            return await real(fn, **kw)

        link.call = call  # type: ignore[method-assign]


async def _fleet(config: Config) -> Fleet:
    return Fleet(config, synthetic_load=SyntheticLoad().vm_cpu)


async def test_first_view_is_served_before_the_xml_and_says_what_is_pending(
    small_spec: FleetSpec,
) -> None:
    fleet = await _fleet(fleet_config(small_spec, poll_interval_seconds=3600))
    gate, seen = asyncio.Event(), []
    _gated(fleet, gate, seen)
    await fleet.start()
    try:
        await fleet.wait_first_view(10)
        snap = fleet.snapshot()
        expected = {v.uuid: v for h in small_spec.hosts for v in h.vms}
        # Every host and VM is there, with its state, before any XML was read...
        assert {v.uuid for v in snap.vms} == expected.keys()
        assert all(v.state.value == ("running" if expected[v.uuid].running else "shutoff")
                   for v in snap.vms)  # fmt: skip
        # ...and says which of its figures are not known yet.
        assert all(v.config_pending and v.devices is None for v in snap.vms)
        assert all(v.vcpus == 0 and v.memory_mib == 0 for v in snap.vms)
        assert [h.vms_config_pending for h in snap.hosts] == [len(h.vms) for h in small_spec.hosts]
        assert to_dict(snap.vms[0])["config_pending"] is True
        assert fleet.configs_pending() == len(expected)
        # A poll meanwhile costs its two calls and no XML.
        polls_before = seen.count("list VMs")
        await fleet.refresh(small_spec.hosts[0].name, publish=False)
        assert seen.count("list VMs") == polls_before + 1
        assert fleet.configs_pending() == len(expected)

        gate.set()
        await fleet.wait_connected(10)
        # Fills publish with the background polls' pace; a refresh after an action publishes now.
        await fleet.refresh_now(small_spec.hosts[0].name)
        snap = fleet.snapshot()
        filled = {v.uuid: v for v in snap.vms}
        assert not any(v.config_pending for v in filled.values())
        assert all(h.vms_config_pending == 0 for h in snap.hosts)
        for uuid, spec in expected.items():
            vm = filled[uuid]
            assert (vm.vcpus, vm.memory_mib, vm.role) == (spec.vcpus, spec.memory_mib, spec.role)
            assert vm.devices is not None and vm.devices.disks
        running = [expected[u] for u, v in filled.items() if v.active]
        host = snap.hosts[0]
        on_host = [expected[v.uuid] for v in snap.vms if v.host == host.name and v.active]
        assert host.memory_used_mib == sum(s.memory_mib for s in on_host)
        assert running
        assert fleet.configs_pending() == 0
    finally:
        gate.set()
        await fleet.stop()


async def test_a_refresh_after_an_action_reads_the_configs_before_publishing(
    small_spec: FleetSpec,
) -> None:
    fleet = await _fleet(fleet_config(small_spec, poll_interval_seconds=3600))
    gate, seen = asyncio.Event(), []
    _gated(fleet, gate, seen)
    await fleet.start()
    try:
        await fleet.wait_first_view(10)
        host = small_spec.hosts[1].name
        gate.set()  # the explicit refresh below reads the XML itself, in line
        await fleet.refresh_now(host)
        assert not any(v.config_pending for v in fleet.snapshot().vms if v.host == host)
    finally:
        gate.set()
        await fleet.stop()


async def test_a_config_made_stale_during_its_read_is_read_again(small_spec: FleetSpec) -> None:
    """A 'defined' event while a VM's XML is out: that XML is not kept, the VM stays pending
    and the fill asks for it again."""
    fleet = await _fleet(fleet_config(small_spec, poll_interval_seconds=3600))
    host = small_spec.hosts[0].name
    uuid = small_spec.hosts[0].vms[0].uuid
    link = fleet.links[host]
    real = link.call
    reads = 0

    async def call(fn: Any, **kw: Any) -> Any:
        nonlocal reads
        result = await real(fn, **kw)
        if kw["action"] == CONFIG_READ:
            reads += 1
            if reads == 1:
                fleet._lifecycle(host, uuid, 0, 1)  # "defined" lands while the XML is out
        return result

    link.call = call  # type: ignore[method-assign]
    await fleet.start()
    try:
        await fleet.wait_connected(10)
        assert reads >= 2  # the first read of its XML was not kept: asked for again
        assert uuid in fleet._configs[host]
        assert fleet.configs_pending() == 0
    finally:
        await fleet.stop()


def test_a_migration_waits_for_the_configs_it_needs() -> None:
    """Sizes and flags not known yet are not taken for 0 and False: the move is refused."""
    hosts = tuple(
        Host(n, "c1", "dc1", f"test:///{n}", HostState.UP, cpus=8, memory_mib=8192)
        for n in ("a", "b")
    )
    vm = VM("u1", "vm1", "a", "c1", "dc1", VmState.RUNNING, vcpus=2, memory_mib=1024)
    snap = Snapshot(0.0, hosts=hosts, vms=(vm,))
    assert refusal(snap, vm, "b") is None
    pending = replace(vm, config_pending=True, vcpus=0, memory_mib=0)
    why = refusal(Snapshot(0.0, hosts=hosts, vms=(pending,)), pending, "b")
    assert why is not None and "still being read" in why
    busy = (hosts[0], replace(hosts[1], vms_config_pending=3))
    why = refusal(Snapshot(0.0, hosts=busy, vms=(vm,)), vm, "b")
    assert why is not None and "free memory is not known yet" in why


async def test_an_event_keeps_the_known_config_shown_until_its_xml_is_read_again(
    small_spec: FleetSpec,
) -> None:
    """After a lifecycle event the VM is not pending (its size and flags were known and a
    migration of it is not refused): the cached config stands until the new XML arrives."""
    fleet = await _fleet(fleet_config(small_spec, poll_interval_seconds=3600))
    await fleet.start()
    gate, seen = asyncio.Event(), []
    try:
        await fleet.wait_connected(10)
        host = small_spec.hosts[0].name
        spec = small_spec.hosts[0].vms[0]
        _gated(fleet, gate, seen)
        fleet._lifecycle(host, spec.uuid, 0, 1)  # "defined": its XML is to be read again
        await fleet.refresh(host, publish=False)  # the poll that event asks for
        assert spec.uuid in fleet._readings[host].unread  # a re-read is wanted...
        await fleet.refresh_now(small_spec.hosts[1].name)  # (publishes the snapshot)
        vm = fleet.snapshot().vm(spec.uuid)
        assert vm is not None and not vm.config_pending  # ...but what was known is shown
        assert (vm.vcpus, vm.memory_mib) == (spec.vcpus, spec.memory_mib)
        gate.set()
        await fleet.wait_connected(10)
        assert not fleet._readings[host].unread and not fleet._stale[host]
    finally:
        gate.set()
        await fleet.stop()


async def test_a_vm_given_up_by_a_running_fill_is_read_when_a_poll_asks_again(
    small_spec: FleetSpec, monkeypatch: Any
) -> None:
    """A VM whose XML read failed (it looked gone) while the host's fill went on with other
    VMs, then found pending again by a poll (it was redefined): the running fill had given up
    on it, so it is read when that fill ends, not a poll interval later."""
    monkeypatch.setattr("ovtui.fleet.fleet.CONFIG_CHUNK", 1)
    fleet = await _fleet(fleet_config(small_spec, poll_interval_seconds=3600))
    host = small_spec.hosts[0].name
    link = fleet.links[host]
    real = link.call
    held, asked_again = asyncio.Event(), asyncio.Event()
    dropped: list[str] = []  # the VM whose first read "failed"
    chunks = 0
    start_fill = fleet._start_fill

    def start_fill_seen(name: str) -> None:
        start_fill(name)
        if name == host and dropped and dropped[0] in fleet._readings[host].unread:
            asked_again.set()

    fleet._start_fill = start_fill_seen  # type: ignore[method-assign]

    async def call(fn: Any, **kw: Any) -> Any:
        nonlocal chunks
        result = await real(fn, **kw)
        if kw["action"] == CONFIG_READ:
            chunks += 1
            if chunks == 1:
                dropped.extend(result)
                result.clear()  # its XMLDesc said "no domain": it looked gone
                fleet._lifecycle(host, dropped[0], 0, 1)  # redefined: the poll finds it again
            elif chunks == 2:
                held.set()
                await asked_again.wait()  # the fill is still out when the poll asks
        return result

    link.call = call  # type: ignore[method-assign]
    await fleet.start()
    try:
        await fleet.wait_connected(10)
        await asyncio.wait_for(held.wait(), 20)
        await asyncio.wait_for(asked_again.wait(), 20)
        for _ in range(500):  # until every config is in, or 500 turns of 10 ms
            if fleet.configs_pending() == 0:
                break
            await asyncio.sleep(0.01)
        assert dropped[0] in fleet._configs[host], "the VM given up by the running fill is pending"
    finally:
        await fleet.stop()
