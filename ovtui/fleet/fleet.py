"""The fleet: host links, a poll loop per host, lifecycle events, and the current Snapshot.

Each host's part of the snapshot is rebuilt only when that host is read; the whole Snapshot is
assembled on demand and cached until some host changes, so reads stay cheap on large fleets.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from collectors.bulk_stats import POLL_DOMAINS, POLL_NODE
from ovtui.config.network_schema import NetworkConfig
from ovtui.config.schema import Config
from ovtui.fleet.assemble import HostFacts, LoadModel, assemble
from ovtui.fleet.domain_handle import DomainHandle
from ovtui.fleet.errors import FleetError
from ovtui.fleet.host_link import HostLink
from ovtui.fleet.host_networks import NetworkTracker, wanted_networks
from ovtui.fleet.lifecycle_names import describe
from ovtui.fleet.moving import Moving, overlay, settled
from ovtui.fleet.reading import (
    HostReading,
    NodeInfo,
    VmConfig,
    read_configs,
    read_host,
    read_node,
    with_configs,
)
from ovtui.model import (
    VM,
    Cluster,
    DataCenter,
    Host,
    HostState,
    Network,
    Snapshot,
    VmState,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
EventSink = Callable[[dict[str, Any]], None]
CallErrorSink = Callable[[str, str, str], None]  # host, call, error kind
UnfitSink = Callable[[str, str], None]  # host, why it is unfit for its cluster
POWERED_OFF = "powered off by power management"
# Background polls publish a new snapshot at most this often: on a large fleet some host is
# read every few milliseconds, and rebuilding the whole snapshot (20 000 VMs: ~15 ms) for each
# would cost more than the reads. Reads asked for explicitly (after an action) publish at once.
PUBLISH_EVERY_SECONDS = 0.5
# Lifecycle events after which a VM's cached domain XML (flags, disks, NICs) is read again:
# defined / undefined (flags or devices changed), started / stopped (a NIC's host-side device
# exists only while the VM runs). One XMLDesc per such event; polls never read the XML.
_CONFIG_EVENTS = frozenset({0, 1, 2, 5})
# Domain XMLs not cached yet are read apart from the polls (reading.py): this many VMs per
# call, so a host's other calls interleave with them, and this many hosts at once, so the
# fill-in of a large fleet does not crowd out its polls (start-up: 20 000 XMLDesc at 500 x 40).
CONFIG_CHUNK = 10
CONFIG_FILLS_AT_ONCE = 8
FILL_ATTEMPTS = 3
# Background fills begin once every host was read once (or given up on), so the first view is
# not slowed by them; or after this long, so one slow host does not hold every config back.
FILL_AFTER_FIRST_VIEW_WITHIN = 10.0


class Fleet:
    def __init__(
        self,
        config: Config,
        *,
        synthetic_load: LoadModel | None = None,
        maintenance_of: Callable[[str], bool] = lambda _h: False,
        powered_off: Callable[[str], bool] = lambda _h: False,
        on_event: EventSink = lambda _e: None,
        on_call_error: CallErrorSink = lambda _h, _c, _k: None,
        ha_of: Callable[[str, bool], tuple[bool, int] | None] = lambda _u, _p: None,
        on_lifecycle: Callable[[str, str, int, int], None] = lambda _h, _u, _e, _d: None,
        on_unfit: UnfitSink = lambda _h, _r: None,
        unfit_reason: Callable[[str], str | None] = lambda _h: None,
        storage_of: Callable[[str], frozenset[str]] = lambda _h: frozenset(),
        domain_of_disk: Callable[[str], str | None] = lambda _s: None,
        disks_shared: Callable[[VM], bool] = lambda _vm: False,
    ) -> None:
        """`powered_off(host)`: power management switched it off, so it is `down`, not
        non_responsive, while it does not answer (and losing it, or a host in maintenance, is
        logged at INFO, not as a warning). `on_call_error` counts failed poll calls.
        `on_unfit(host, reason)`: a host has just become non_operational for a missing required
        network (once per episode; the engine decides what happens to its VMs).
        `unfit_reason(host)`: why a reachable host is non_operational (storage), else None.
        `storage_of(host)`: the storage domains active there; `domain_of_disk(source)`: which
        domain holds a disk (both from ovtui.storage, for the scheduler's storage filter);
        `disks_shared(vm)`: every disk of vm is on a shared domain (live migration copies none)."""
        self.config = config
        self._synthetic = synthetic_load
        self._maintenance_of = maintenance_of
        self._powered_off = powered_off
        self._on_event = on_event
        self._on_call_error = on_call_error
        self._ha_of = ha_of  # HA flag and priority overrides (ovtui/ha)
        self._on_lifecycle_raw = on_lifecycle  # libvirt's event and detail codes, for HA
        self._on_unfit = on_unfit
        self._unfit_reason = unfit_reason
        self._storage_of = storage_of
        self._domain_of_disk = domain_of_disk
        self.disks_shared = disks_shared
        eng = config.engine
        self.links: dict[str, HostLink] = {
            h.name: HostLink(
                h,
                call_timeout=eng.libvirt_call_timeout_seconds,
                backoff_max=eng.connect_backoff_max_seconds,
                on_lifecycle=self._lifecycle,
                on_balloon=self._balloon_changed,
                on_state_change=self._link_state_changed,
                expected_down=self._expected_down,
            )
            for h in config.hosts
        }
        grace = config.networking.missing_network_grace_seconds
        self._networks = {
            h.name: NetworkTracker(wanted_networks(config.networks, h.cluster), grace)
            for h in config.hosts
        }
        self._network_problem: dict[str, str | None] = {}
        self._readings: dict[str, HostReading] = {}
        self._previous: dict[str, HostReading] = {}
        self._nodes: dict[str, NodeInfo] = {}
        self._current: set[str] = set()  # hosts read since their connection last changed
        # Per host, per VM uuid: flags and devices from the domain XML, read once (reading.py).
        self._configs: dict[str, dict[str, VmConfig]] = {h: {} for h in self.links}
        # Per host, per VM uuid: how often an event made its config stale, so a config read
        # while such an event came is not kept (the read after the event reads it again).
        self._config_epoch: dict[str, dict[str, int]] = {h: {} for h in self.links}
        # Per host: VMs whose cached config an event made stale: shown as cached (as libvirt
        # showed it before the event) until the XML is read again, not as pending.
        self._stale: dict[str, set[str]] = {h: set() for h in self.links}
        self._fills: dict[str, asyncio.Task[None]] = {}  # background config reads per host
        self._fill_again: set[str] = set()  # hosts whose running fill was asked for again
        self._fill_slots = asyncio.Semaphore(CONFIG_FILLS_AT_ONCE)
        self._first_view = asyncio.Event()  # every host read once or given up on
        self._views: dict[str, tuple[Host, tuple[VM, ...]]] = {}
        # VMs being moved (ovtui.fleet.moving), and per host: reads begun, and which of them
        # gave the reading now stored (so a move knows when both hosts were read after it).
        self._moving: dict[str, Moving] = {}
        self._reads_begun: dict[str, int] = {h: 0 for h in self.links}
        self._stored_read: dict[str, int] = {h: 0 for h in self.links}
        self._flags: dict[str, tuple[bool, bool]] = {}  # (powered off, maintenance) at rebuild
        self._wake: dict[str, asyncio.Event] = {}
        self._read_locks: dict[str, asyncio.Lock] = {}
        self._read_slots = asyncio.Semaphore(eng.max_parallel_reads)
        self._tasks: list[asyncio.Task[None]] = []
        self._snapshot: Snapshot | None = None
        self._unpublished = False  # a background poll changed a host since the snapshot
        self._published_at = 0.0
        self._dcs = tuple(DataCenter(d.name, d.description) for d in config.datacenters)
        self._clusters = tuple(_cluster(c) for c in config.clusters)
        self._network_models = tuple(_network(n) for n in config.networks)

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        for name, link in self.links.items():
            self._wake[name] = asyncio.Event()
            self._rebuild(name)
            link.start()
            self._tasks.append(asyncio.create_task(self._poll_forever(name), name=f"poll-{name}"))

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._fills.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(link.stop() for link in self.links.values()))

    def configs_pending(self) -> int:
        """VMs whose domain XML was never read yet (shown with config_pending)."""
        return sum(1 for r in self._readings.values() for d in r.domains if d.config_pending)

    def _all_seen(self) -> bool:
        return all(
            n in self._readings or link.state == HostState.NON_RESPONSIVE
            for n, link in self.links.items()
        )

    def _note_first_view(self) -> None:
        if not self._first_view.is_set() and self._all_seen():
            self._first_view.set()

    def _configs_read(self) -> bool:
        return not any(
            r.unread for n, r in self._readings.items() if self.links[n].state == HostState.UP
        )

    async def wait_first_view(self, timeout: float) -> None:
        """Waits until every host has been read once or given up on; VMs' configs may still
        be pending then (config_pending)."""
        await self._wait_for(self._all_seen, timeout)

    async def wait_connected(self, timeout: float) -> None:
        """Waits until every host has been read once or given up on, and the configs of the
        VMs on the hosts that answer have been read (for start-up and tests)."""
        await self._wait_for(lambda: self._all_seen() and self._configs_read(), timeout)

    @staticmethod
    async def _wait_for(done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():
                return
            await asyncio.sleep(0.02)

    # -- polling -------------------------------------------------------------------------------
    async def _poll_forever(self, name: str) -> None:
        interval = self.config.engine.poll_interval_seconds
        wake = self._wake[name]
        # Hosts start together; a random first pause spreads their polls over the interval
        # instead of reading every host at the same instant, every interval.
        pause = random.uniform(0.5, 1.0) * interval
        while True:
            # Cleared before the read, not after: an event that asks for a read while one is
            # out (a VM redefined mid-read) gets a read of its own instead of being lost.
            wake.clear()
            if self.links[name].state == HostState.UP:
                try:
                    await self.refresh(name, publish=False)
                except FleetError as exc:
                    log.info("poll of %s failed: %s", name, exc.message)
            elif self._flags.get(name) != self._flags_of(name):
                self._rebuild(name)  # not answering, and its maintenance or power flag changed
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that arrives
            # as the event fires (CPython gh-86296), and then stop() waits forever.
            try:
                async with asyncio.timeout(pause):
                    await wake.wait()
            except TimeoutError:
                pass
            pause = interval

    async def refresh(self, name: str, *, publish: bool = True) -> None:
        """Re-reads one host now. Reads of one host are serialised, so a read that began
        earlier never replaces the result of one that began later. publish=False (background
        polls): the next snapshot shows it within PUBLISH_EVERY_SECONDS, with the configs not
        cached yet pending until a background fill reads them; publish=True (after an
        action): the configs are read before the result is shown."""
        link = self.links[name]
        async with self._read_locks.setdefault(name, asyncio.Lock()), self._read_slots:
            read_no = self._reads_begun[name] = self._reads_begun[name] + 1
            cache, node, stale = self._configs[name], self._nodes.get(name), self._stale[name]
            if node is None:
                node = self._nodes[name] = await self._counted(
                    name, POLL_NODE, link.call(read_node, action="read host")
                )
            networks = self._networks[name].pairs
            cpu_time = link.cfg.load != "synthetic"  # synthetic load never looks at cpu.time
            last = self._readings.get(name)
            before = last.unread if last is not None else None

            def poll(conn: Any) -> HostReading:
                return read_host(
                    conn,
                    cache,
                    node,
                    stale,
                    networks,
                    cpu_time=cpu_time,
                    unread_before=before,
                    previous=last,
                )

            reading = await self._counted(name, POLL_DOMAINS, link.call(poll, action="list VMs"))
            self._forget_gone(name, reading)
            if name in self._readings:
                self._previous[name] = self._readings[name]
            self._readings[name] = reading
            self._stored_read[name] = read_no
            self._current.add(name)
            self._check_networks(name, reading)
            self._note_first_view()
            if reading.unread and publish:
                await self._fill(name)
            elif reading.unread:
                self._start_fill(name)
            self._rebuild(name, publish=publish)

    def set_networks(self, networks: Sequence[NetworkConfig]) -> None:
        """The logical networks now defined (ovtui.toml's and the API's): every host checks
        those of its cluster from its next read on, which is asked for at once."""
        for h in self.config.hosts:
            self._networks[h.name].rewant(wanted_networks(networks, h.cluster))
        self._network_models = tuple(_network(n) for n in networks)
        self._snapshot = None
        for name in self._wake:  # started hosts: the new set shows now, its state on the read
            self._rebuild(name)
            self.request_refresh(name)

    def _check_networks(self, name: str, reading: HostReading) -> None:
        tracker = self._networks[name]
        if not tracker.wanted and self._network_problem.get(name) is None:
            return
        tracker.update(reading.networks, reading.wall)
        before = self._network_problem.get(name)
        now = self._network_problem[name] = tracker.problem(reading.wall)
        if now is not None and before is None:
            self._on_event({"kind": "host", "host": name, "what": "non_operational", "detail": now})
            self._on_unfit(name, now)
        elif now is None and before is not None:
            self._on_event({"kind": "host", "host": name, "what": "networks back", "detail": ""})

    def _forget_gone(self, name: str, reading: HostReading) -> None:
        """Forgets the configs of VMs that are no longer on the host."""
        cache, stale = self._configs[name], self._stale[name]
        if len(cache) > len(reading.domains) - len(reading.unread) or stale:
            present = {d.uuid for d in reading.domains}
            for gone in cache.keys() - present:
                del cache[gone]
            stale &= present

    def _forget_config(self, host: str, uuid: str, *, unknown: bool = False) -> None:
        """The VM's cached config is stale: the next read asks for its XML again. Meanwhile
        the cached one is shown, or, `unknown` (a reconnect: the VM may have been redefined
        unseen), none: the VM is pending."""
        if unknown:
            self._configs[host].pop(uuid, None)
            self._stale[host].discard(uuid)
        else:
            self._stale[host].add(uuid)
        epochs = self._config_epoch[host]
        epochs[uuid] = epochs.get(uuid, 0) + 1

    def _start_fill(self, name: str) -> None:
        task = self._fills.get(name)
        if task is None or task.done():
            self._fills[name] = asyncio.create_task(self._fill_quietly(name), name=f"xml-{name}")
        else:
            # The running fill may already have given up on a VM this read found pending
            # again (redefined while its XML was out): it runs once more when it ends,
            # instead of leaving that VM to the next poll, a poll interval later.
            self._fill_again.add(name)

    async def _fill_quietly(self, name: str) -> None:
        try:
            async with asyncio.timeout(FILL_AFTER_FIRST_VIEW_WITHIN):
                await self._first_view.wait()
        except TimeoutError:
            pass
        try:
            while True:
                self._fill_again.discard(name)
                await self._fill(name)
                if name not in self._fill_again:
                    return
        except FleetError as exc:  # the host's poll notices too, and starts another fill
            log.info("reading VM configs of %s failed: %s", name, exc.message)

    async def _fill(self, name: str) -> None:
        """Reads the pending configs of the host's stored reading, CONFIG_CHUNK VMs per call,
        and fills them in (each chunk shows in the next snapshot)."""
        link, cache, epochs = self.links[name], self._configs[name], self._config_epoch[name]
        stale = self._stale[name]
        # Not asked for again by this fill: vanished, or made stale by events FILL_ATTEMPTS
        # times in a row (an event storm does not keep it busy; the next poll's fill retries).
        tried: set[str] = set()
        attempts: dict[str, int] = {}
        while True:
            reading = self._readings.get(name)
            if reading is None:
                return
            todo = [
                (uuid, handle)
                for d in reading.domains
                if (uuid := d.uuid) not in tried
                and (handle := reading.unread.get(uuid)) is not None
                and (uuid not in cache or uuid in stale)
            ][:CONFIG_CHUNK]
            if not todo:  # what is left was read meanwhile (a refresh's own fill), or gave up
                done = {u: cache[u] for u in reading.unread if u in cache and u not in stale}
                self._readings[name] = with_configs(reading, done)
                # Read meanwhile by another fill: shown now, not a poll interval later (no
                # rebuild follows a background fill).
                if done:
                    self._rebuild(name, publish=False)
                return
            before = {uuid: epochs.get(uuid, 0) for uuid, _ in todo}
            gone: set[str] = set()
            async with self._fill_slots:
                got = await link.call(_configs_of(todo, gone), action="read VM configs")
            tried |= gone
            for uuid, _ in todo:
                attempts[uuid] = attempts.get(uuid, 0) + 1
                if attempts[uuid] >= FILL_ATTEMPTS:
                    tried.add(uuid)
            # One an event made stale meanwhile is not kept, and asked for again.
            fresh = {u: c for u, c in got.items() if epochs.get(u, 0) == before[u]}
            cache.update(fresh)
            stale.difference_update(fresh)  # in place: `-=` with dict keys makes a new set
            # The stored reading may be newer than the one this chunk started from.
            self._readings[name] = with_configs(self._readings[name], fresh, gone)
            self._rebuild(name, publish=False)

    async def _counted(self, name: str, call: str, running: Awaitable[T]) -> T:
        try:
            return await running
        except FleetError as exc:
            # "unavailable" without libvirt's text: refused before libvirt was asked.
            if exc.kind != "unavailable" or exc.raw:
                self._on_call_error(name, call, exc.kind)
            raise

    async def refresh_now(self, *names: str) -> None:
        """After an action: re-read the hosts involved so the next read shows the result.
        A host that cannot be read now is left to its poll loop (the action itself is done)."""
        for name in names:
            try:
                await self.refresh(name)
            except FleetError as exc:
                log.info("re-read of %s after an action failed: %s", name, exc.message)
                self.request_refresh(name)

    async def reread_vm(self, host: str, uuid: str) -> None:
        """A VM's devices changed without a lifecycle event (a disk attached or detached):
        forget its cached domain XML and re-read the host now."""
        self._forget_config(host, uuid)
        await self.refresh_now(host)

    def request_refresh(self, name: str) -> None:
        if name in self._wake:
            self._wake[name].set()

    # -- events from libvirt (already on the asyncio loop) ---------------------------------------
    def _lifecycle(self, host: str, uuid: str, event: int, detail: int) -> None:
        if event in _CONFIG_EVENTS:
            self._forget_config(host, uuid)
        vm = self._find_name(host, uuid)
        self._on_lifecycle_raw(host, uuid, event, detail)
        self._on_event(
            {"kind": "vm", "host": host, "vm": vm, "uuid": uuid, "what": describe(event, detail)}
        )
        self.request_refresh(host)

    def _balloon_changed(self, host: str, uuid: str) -> None:
        """The guest's current memory changed: its config is read again by the next poll (not
        at once: a balloon driver can report often, and the figure is not urgent)."""
        self._forget_config(host, uuid)

    def _flags_of(self, host: str) -> tuple[bool, bool]:
        return self._powered_off(host), self._maintenance_of(host)

    def _expected_down(self, host: str) -> bool:
        return any(self._flags_of(host))

    def _link_state_changed(self, host: str) -> None:
        link = self.links[host]
        self._current.discard(host)  # what we read came over the old connection
        self._note_first_view()
        fill = self._fills.pop(host, None)
        self._fill_again.discard(host)
        if fill is not None:
            fill.cancel()  # its domain handles belong to the old connection
        if link.state == HostState.UP:
            self._nodes.pop(host, None)  # capacity may differ after a reconnect
            for uuid in list(self._configs[host]):  # VMs may have been redefined unseen
                self._forget_config(host, uuid, unknown=True)
            self._previous.pop(host, None)
        self._on_event(
            {"kind": "host", "host": host, "what": f"{link.state.value}", "detail": link.reason}
        )
        self._rebuild(host)
        self.request_refresh(host)

    def _find_name(self, host: str, uuid: str) -> str:
        # The VM may be new to this host (migrated in): look at every host, its own first.
        for name in (host, *self._readings):
            reading = self._readings.get(name)
            for d in reading.domains if reading else ():
                if d.uuid == uuid:
                    return d.name
        return uuid

    # -- VMs being moved ---------------------------------------------------------------------
    def begin_move(self, vm: VM, target: str, mode: str) -> None:
        """From now on the VM is shown once, as migrating from its host to target."""
        other = self._moving.get(vm.uuid)
        if other is not None:
            raise FleetError(
                f"migrate {vm.name} refused: it is already migrating from {other.vm.host} to "
                f"{other.target}; wait until that move ends",
                kind="conflict",
                host=vm.host,
                vm=vm.name,
            )
        self._moving[vm.uuid] = Moving(vm, target, mode)
        self._snapshot = None

    def end_move(self, uuid: str) -> None:
        """The move is over (done or not): still shown as migrating until both hosts have been
        read again, so the first snapshot without the overlay has the VM where it really is."""
        move = self._moving.get(uuid)
        if move is not None and move.reads_at_end is None:
            move.reads_at_end = {h: self._reads_begun[h] for h in move.hosts}
            if self._drop_settled():
                self._snapshot = None

    def moving(self, uuid: str) -> Moving | None:
        return self._moving.get(uuid)

    def _drop_settled(self) -> bool:
        # Only the moves' own hosts: this runs at every host's rebuild while a move is shown,
        # and a walk of every host there costs hosts x rebuilds (each host rebuilt per poll).
        up = {
            h: link.state == HostState.UP
            for m in self._moving.values()
            for h in m.hosts
            if (link := self.links.get(h)) is not None
        }
        done = [u for u, m in self._moving.items() if settled(m, self._stored_read, up)]
        for uuid in done:
            del self._moving[uuid]
        return bool(done)

    # -- snapshot ------------------------------------------------------------------------------
    def _rebuild(self, name: str, *, publish: bool = True) -> None:
        link = self.links[name]
        cfg = link.cfg
        state, reason = link.state, link.reason
        flags = self._flags[name] = self._flags_of(name)
        powered_off, maintenance = flags
        if state != HostState.UP and powered_off:
            state, reason = HostState.DOWN, POWERED_OFF
        facts = HostFacts(
            cfg=cfg,
            cluster=self.config.cluster(cfg.cluster),
            link_state=state,
            link_reason=reason,
            live_migration=link.live_migration,
            maintenance=maintenance,
            last_seen=self._readings[name].wall if name in self._readings else None,
            reading_current=name in self._current,
            ha_of=self._ha_of,
            networks=self._networks[name].networks(),
            network_problem=self._network_problem.get(name),
            unfit_reason=self._unfit_reason(name) or "",
            storage_domains=self._storage_of(name),
            domain_of_disk=self._domain_of_disk,
        )
        synthetic = self._synthetic if cfg.load == "synthetic" else None
        self._views[name] = assemble(
            facts, self._readings.get(name), self._previous.get(name), synthetic
        )
        if self._moving:
            self._drop_settled()
        if publish:
            self._snapshot = None
        else:
            self._unpublished = True

    def forget_config(self, host: str, uuid: str) -> None:
        """A VM's devices changed (a NIC plugged): read its domain XML again at the next read."""
        self._forget_config(host, uuid)

    def invalidate(self, host: str) -> None:
        """Host facts outside libvirt changed (maintenance flag): rebuild its part."""
        self._rebuild(host)

    def snapshot(self) -> Snapshot:
        snap = self._snapshot
        now = time.monotonic()
        if snap is None or (
            self._unpublished and now - self._published_at >= PUBLISH_EVERY_SECONDS
        ):
            self._unpublished, self._published_at = False, now
            views = [self._views[n] for n in self.links]
            snap = self._snapshot = Snapshot(
                taken_at=time.time(),
                datacenters=self._dcs,
                clusters=self._clusters,
                hosts=tuple(h for h, _ in views),
                vms=overlay(
                    _without_stale_copies([vm for _, vms in views for vm in vms]), self._moving
                ),
                networks=self._network_models,
            )
        return snap


def _configs_of(
    todo: list[tuple[str, DomainHandle]], gone: set[str]
) -> Callable[[Any], dict[str, VmConfig]]:
    return lambda conn: read_configs(todo, gone, conn)


def _without_stale_copies(vms: list[VM]) -> tuple[VM, ...]:
    """A host that stopped answering keeps its last VMs, in state unknown. One of them that a
    reachable host runs now (it arrived there, or was only arriving from there when the host
    died mid-migration) is not shown twice: the reachable host's answer wins."""
    stale = [vm for vm in vms if vm.state == VmState.UNKNOWN]
    if not stale:
        return tuple(vms)
    known = {vm.uuid for vm in vms if vm.state != VmState.UNKNOWN}
    return tuple(vm for vm in vms if vm.state != VmState.UNKNOWN or vm.uuid not in known)


def _network(n: Any) -> Network:
    from types import MappingProxyType

    return Network(
        name=n.name,
        datacenter=n.datacenter,
        bridge=n.bridge,
        mtu=n.mtu,
        vlan=n.vlan,
        bond=n.bond.name if n.bond else "",
        description=n.description,
        clusters=MappingProxyType(dict(n.clusters)),
    )


def _cluster(c: Any) -> Cluster:
    from types import MappingProxyType

    return Cluster(
        name=c.name,
        datacenter=c.datacenter,
        cpu_model=c.cpu_model,
        memory_overcommit_percent=c.memory_overcommit_percent,
        resiliency=c.resiliency,
        scheduling_policy=c.scheduling.policy,
        scheduling_mode=c.scheduling.mode,
        scheduling_params=MappingProxyType(dict(c.scheduling.params)),
    )
