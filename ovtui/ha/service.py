"""The HA service: runs the machine on the published snapshot and carries out its commands.

The engine composes it and hands it what it needs (config, store, fleet, an audited `act`, an
event sink, metrics); it never imports the engine. The machine's state is written to the store
after every tick and before any command starts (write-ahead), so an engine killed in the middle
resumes from there (machine.resume) and never acts twice. Commands run as tasks: one slow BMC
never stalls the others; restarts run one at a time, in the order issued (priority order).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from collectors.ha_metrics import HaMetrics
from ovtui.config.schema import Config, HostConfig
from ovtui.executor.power import power_action, power_status
from ovtui.executor.power.proc import last_line, run_tool
from ovtui.fleet import ha_ops
from ovtui.fleet.errors import FleetError
from ovtui.fleet.fleet import Fleet
from ovtui.fleet.image_lock import locked_image
from ovtui.fleet.reading import parse_config
from ovtui.ha import machine
from ovtui.ha.last_known import LastKnown
from ovtui.ha.machine import Confirmed, Event, VmStopped
from ovtui.ha.model import Cmd, HaState, HostRecord, Result
from ovtui.ha.reservation_due import ReservationDue
from ovtui.ha.resiliency import Migrate, Resiliency
from ovtui.ha.world import Seen, build_world
from ovtui.model import VM, HostState, Snapshot, VmDevices, VmState
from ovtui.store import Store
from policies.ha_reservation import ha_reservation
from policies.ha_restart import plan_restarts

log = logging.getLogger(__name__)
STATE_KEY = "ha_state"
# libvirt lifecycle codes: STOPPED=5 with detail CRASHED=2 or FAILED=5, and CRASHED=8, are a
# crash; STOPPED with SHUTDOWN=0 or DESTROYED=1 is a user or guest stopping it.
_STOPPED, _CRASHED = 5, 8
_STOPPED_CRASH_DETAILS = (2, 5)
_STOPPED_BY_SOMEONE = (0, 1)
_UNREAD = object()  # no definition read by this engine yet
# Definitions of HA VMs read per tick (each a round trip on its host, the hosts in parallel),
# written to the store in one write.
REMEMBER_PER_TICK = 50
Run = Callable[[], Awaitable[dict[str, Any]]]
# The engine's audited runner, as the HA system principal: (action, target, params, run).
Act = Callable[[str, str, dict[str, Any], Run], Awaitable[dict[str, Any]]]


class HaService:
    def __init__(
        self,
        config: Config,
        store: Store,
        fleet: Fleet,
        act: Act,
        on_event: Callable[[dict[str, Any]], None],
        metrics: HaMetrics,
        *,
        migrate: Migrate | None = None,
        interval: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config, self.store, self.fleet = config, store, fleet
        self._act, self._on_event, self.metrics = act, on_event, metrics
        self.interval, self.clock = interval, clock
        self.started_at = clock()
        self.state = HaState.from_json(store.get_setting(STATE_KEY))
        self._saved: dict[str, Any] | None = None  # the document last written to the store
        docs = store.table("vm_settings").all()
        self._settings: dict[str, tuple[bool, int]] = {
            d["uuid"]: (bool(d["ha"]), int(d.get("ha_priority", 0))) for d in docs if "ha" in d
        }
        self._last_known = LastKnown({d["uuid"]: str(d["ha_xml"]) for d in docs if d.get("ha_xml")})
        # The devices each stored definition was read with: a disk hot-plugged or removed
        # since makes it stale (a restart elsewhere would come up without it, or with a disk
        # QEMU's image lock no longer guards). Empty after a start: every one is read once.
        self._xml_devices: dict[str, VmDevices | None] = {}
        self._results: list[Result] = []
        self._events: list[Event] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._restart_lock = asyncio.Lock()
        self._loop: asyncio.Task[None] | None = None
        self._resilient: asyncio.Task[None] | None = None
        # per cluster, as of the last tick: {"ok", "detail", "ha_vms"} (policies/ha_reservation)
        self.reservations: dict[str, dict[str, Any]] = {}
        self._reservation_due = ReservationDue()
        self._seen: Seen = {}  # build_world's, from one tick to the next
        self._counted: dict[str, int] = dict(self.state.counters)
        self._hosts = {h.name: h for h in config.hosts}
        self._settings_into_records()
        self.resiliency = Resiliency(migrate, self._log) if migrate is not None else None

    # -- what the fleet asks -------------------------------------------------------------------
    def ha_of(self, uuid: str, pending: bool = False) -> tuple[bool, int] | None:
        """The operator's flag and priority (None: the XML's metadata says); `pending`: that
        XML is not read yet, so the last known ones (ovtui/ha/last_known.py)."""
        found = self._settings.get(uuid)
        if found is None and pending:
            return self._last_known.of(uuid, self.state)
        return found

    def on_lifecycle(self, host: str, uuid: str, event: int, detail: int) -> None:
        if event == _CRASHED or (event == _STOPPED and detail in _STOPPED_CRASH_DETAILS):
            self._events.append(VmStopped(uuid, host, crashed=True))
        elif event == _STOPPED and detail in _STOPPED_BY_SOMEONE:
            self._events.append(VmStopped(uuid, host, crashed=False))

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        cmds, lines = machine.resume(self.state)
        self._log(lines)
        self._persist()
        for cmd in cmds:
            self._launch(cmd)
        self._loop = asyncio.create_task(self._forever(), name="ha")

    async def stop(self) -> None:
        for task in [t for t in (self._loop, self._resilient) if t] + list(self._tasks):
            task.cancel()
        tasks = [t for t in (self._loop, self._resilient) if t] + list(self._tasks)
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _forever(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # one bad tick must not end HA for good
                log.exception("HA tick failed")
            await asyncio.sleep(self.interval)

    async def tick(self) -> None:
        snap = self.fleet.snapshot()
        world = build_world(snap, self.config, self.clock(), self.started_at, self._seen)
        results, self._results = self._results, []
        events, self._events = self._events, []
        cmds, lines = machine.tick(self.state, world, results, events)
        self._log(lines)
        self._persist()  # before acting: a restart from here resumes, never repeats
        self._update_metrics(snap)
        for cmd in cmds:
            self._launch(cmd)
        await self._tidy(snap)
        if self.resiliency is not None and self._resilient is None:
            # in a task of its own: migrations take seconds, ticks must not wait for them
            self._resilient = asyncio.create_task(self.resiliency.step(snap, self.clock()))
            self._resilient.add_done_callback(self._resiliency_done)

    def _resiliency_done(self, task: asyncio.Task[None]) -> None:
        self._resilient = None
        if not task.cancelled() and task.exception() is not None:
            log.error("resiliency step failed", exc_info=task.exception())

    # -- operator actions (the engine audits them) ---------------------------------------------
    def confirm_rebooted(self, host: str, who: str) -> dict[str, Any]:
        rec = self.state.hosts.get(host)
        if rec is None or rec.stage in ("up", "fenced", "powering_on"):
            stage = rec.stage if rec else "up"
            raise FleetError(
                f"{host} is {stage}: only a non-responsive host's reboot can be confirmed",
                kind="conflict",
                host=host,
            )
        self._events.append(Confirmed(host, who))
        return {"result": f"{host} confirmed rebooted by {who}: its HA VMs will be restarted"}

    def inject(self, event: Event) -> None:
        """An event for the next tick (an operator's fence)."""
        self._events.append(event)

    def set_vm(self, vm: VM, ha: bool, priority: int) -> dict[str, Any]:
        self.store.set_vm_settings(vm.uuid, ha=ha, ha_priority=priority)
        self._settings[vm.uuid] = (ha, priority)
        self._settings_into_records()
        self._persist()
        self.fleet.invalidate(vm.host)
        return {"result": f"{vm.name}: HA {'on' if ha else 'off'}, priority {priority}"}

    async def remember_xml(self, vm: VM) -> bool:
        """Keep the VM's definition: after a fence its host cannot be asked for it. False when
        its host cannot be asked now."""
        link = self.fleet.links.get(vm.host)
        if link is None or link.state != HostState.UP:
            return False
        xml = await link.call(ha_ops.inactive_xml(vm.uuid), action="read definition", vm=vm.name)
        self.store.set_vm_settings(vm.uuid, ha_xml=xml)
        self._remembered(vm, xml)
        return True

    def _remembered(self, vm: VM, xml: str) -> None:
        """After its definition is in the store: known, and read for these devices."""
        self._last_known.remembered(vm.uuid, xml)
        self._xml_devices[vm.uuid] = vm.devices

    async def _remember_all(self, vms: list[VM]) -> None:
        """remember_xml for several VMs, their hosts asked in parallel and the definitions
        written to the store at once: each store write rewrites the whole file (~1.4 MB at
        500 hosts x 40 VMs), and one VM per tick kept a 1 800-HA-VM fleet writing it every
        second for half an hour after each start."""

        async def read(vm: VM) -> str | None:
            try:
                link = self.fleet.links[vm.host]
                return await link.call(
                    ha_ops.inactive_xml(vm.uuid), action="read definition", vm=vm.name
                )
            except FleetError as exc:
                log.info("HA: cannot read the definition of %s: %s", vm.name, exc.message)
                return None

        found = await asyncio.gather(*(read(vm) for vm in vms))
        read_now = [(vm, xml) for vm, xml in zip(vms, found, strict=True) if xml is not None]
        if not read_now:
            return
        with self.store.transaction():
            for vm, xml in read_now:
                self.store.set_vm_settings(vm.uuid, ha_xml=xml)
        for vm, xml in read_now:
            self._remembered(vm, xml)

    def status(self) -> dict[str, Any]:
        st = self.state
        return {
            "hosts": {
                n: {
                    "stage": r.stage,
                    "since": r.since,
                    "held": r.held,
                    "last_error": r.last_error,
                    "fenced_at": r.fenced_at,
                    "fenced_by": r.fenced_by,
                    "waiting": self._waiting(r) if r.stage != "up" else [],
                }
                for n, r in sorted(st.hosts.items())
            },
            "recoveries": [
                {
                    "vm": r.name,
                    "uuid": r.uuid,
                    "from": r.source,
                    "priority": r.priority,
                    "cause": r.cause,
                    "stage": r.stage,
                    "attempts": r.attempts,
                    "next_try": r.next_try,
                    "last_error": r.last_error,
                }
                for r in sorted(st.recoveries.values(), key=lambda r: (-r.priority, r.name))
            ],
            "reservation": dict(sorted(self.reservations.items())),
            "left_down": [
                {"vm": v[0], "uuid": u, "host": v[1], "since": v[2]}
                for u, v in sorted(st.left_down.items())
            ],
        }

    def _settings_into_records(self) -> None:
        """What each host ran when last seen up carries the HA flags of then; the stored settings
        are newer (a flag set just before its host was lost, before a tick saw it). An engine
        started after the loss never lists the VM, so the record is all it has to go by."""
        for rec in self.state.hosts.values():
            for uuid, entry in rec.running.items():
                if uuid in self._settings:
                    entry[1:3] = list(self._settings[uuid])

    def _waiting(self, rec: HostRecord) -> list[dict[str, Any]]:
        """The HA VMs that ran on a lost host, by their settings of now, highest first: they
        are restarted once it is fenced."""
        out = []
        for uuid, (name, ha, priority) in rec.running.items():
            ha, priority = self._settings.get(uuid, (bool(ha), int(priority)))
            if ha:
                out.append({"vm": name, "uuid": uuid, "priority": priority})
        return sorted(out, key=lambda v: (-v["priority"], v["vm"]))

    # -- carrying out commands ------------------------------------------------------------------
    def _launch(self, cmd: Cmd) -> None:
        task = asyncio.create_task(self._carry_out(cmd), name=f"ha-{cmd.kind}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _carry_out(self, cmd: Cmd) -> None:
        try:
            if cmd.kind == "restart":
                async with self._restart_lock:
                    detail = await self._restart(cmd)
            else:
                detail = await self._power(cmd)
            self._results.append(Result(cmd, True, detail))
        except FleetError as exc:
            self._results.append(Result(cmd, False, exc.message))
        except Exception as exc:  # a bug must not leave the machine waiting forever
            log.exception("HA command %s failed", cmd)
            self._results.append(Result(cmd, False, str(exc)))

    async def _power(self, cmd: Cmd) -> str:
        cfg = self._hosts[cmd.host]
        if cmd.kind == "soft_fence":
            return await self._soft_fence(cfg)
        action = {"power_off": "off", "power_on": "on", "power_status": "status"}[cmd.kind]
        if action == "status":
            return await power_status(cfg)

        async def run() -> dict[str, Any]:
            return await power_action(cfg, action)

        params = {"reason": cmd.reason}
        out = await self._act(f"host.fence_power_{action}", f"host/{cmd.host}", params, run)
        return str(out.get("result", ""))

    async def _soft_fence(self, cfg: HostConfig) -> str:
        argv = cfg.power.soft_fence or []

        async def run() -> dict[str, Any]:
            env = {**os.environ, "OVTUI_HOST": cfg.name}
            code, text = await run_tool(argv, host=cfg.name, action="soft fence",
                                        timeout=cfg.power.timeout_seconds, env=env)  # fmt: skip
            if code != 0:
                raise FleetError(f"soft fence of {cfg.name}: {argv[0]} exited {code}: "
                                 f"{last_line(text)}", host=cfg.name)  # fmt: skip
            return {"result": f"{argv[0]} exited 0"}

        out = await self._act("host.soft_fence", f"host/{cfg.name}", {}, run)
        return str(out["result"])

    async def _restart(self, cmd: Cmd) -> str:
        snap = self.fleet.snapshot()
        copies = [v for v in snap.vms if v.uuid == cmd.vm]
        running = next((v for v in copies if v.active), None)
        if running is not None:
            return running.host  # already running (a start that raced an engine restart)
        vm = next((v for v in copies if v.host == cmd.source), copies[0] if copies else None)
        if vm is None:
            # An engine started while its host was down has never listed it: its stored
            # definition says what it is.
            vm = self._stored_vm(snap, cmd.vm, cmd.source)
        if vm is None:
            raise FleetError(f"HA VM {cmd.vm} is nowhere in the inventory", kind="conflict")
        rec = self.state.recoveries.get(vm.uuid)
        chosen = snap.host(rec.target) if rec is not None and rec.target else None
        if chosen is not None and chosen.state == HostState.UP and not chosen.maintenance:
            # an engine before this one chose it and may have started it there already: the
            # same host again, where libvirt refuses a second start of a running VM
            target, why = chosen.name, f"{chosen.name}, chosen before the engine restarted"
        else:
            target, why = self._target(snap, vm, cmd.source)
        if rec is not None and rec.target != target:
            rec.target = target
            self._persist()  # write-ahead: where it is being started, before starting it

        async def run() -> dict[str, Any]:
            link = self.fleet.links[target]
            if target == cmd.source:
                await link.call(ha_ops.start(vm.uuid), action="start", vm=vm.name)
            else:
                xml = self._xml(vm.uuid)
                try:
                    await link.call(ha_ops.define_and_start(xml, vm.uuid),
                                    action="define and start", vm=vm.name)  # fmt: skip
                except FleetError as exc:
                    raise _lock_refusal(exc, vm.name, target, cmd.source) or exc from None
            await self.fleet.refresh_now(target)
            return {"result": f"started on {target}: {why}", "target": target}

        params = {"uuid": vm.uuid, "to": target, "reason": cmd.reason}
        out = await self._act("vm.ha_restart", f"vm/{vm.name}@{cmd.source}", params, run)
        return str(out["target"])

    def _target(self, snap: Snapshot, vm: VM, source: str) -> tuple[str, str]:
        src = snap.host(source)
        if src is not None and src.state == HostState.UP and not src.maintenance:
            return source, f"{source} answers: started where it crashed"
        prio = {vm.uuid: vm.ha_priority}
        restarts, unplaced = plan_restarts(snap, [replace(vm, host=source)], prio,
                                           exclude=frozenset({source}))  # fmt: skip
        if not restarts:
            raise FleetError(f"no host can take {vm.name}: {unplaced[0].reason}", kind="conflict")
        return restarts[0].target, restarts[0].reason

    def _stored_vm(self, snap: Snapshot, uuid: str, source: str) -> VM | None:
        """The VM as its stored definition describes it, shut off on `source` (for placing it)."""
        xml = self.store.vm_settings(uuid).get("ha_xml")
        host = snap.host(source)
        if not xml or host is None:
            return None
        cfg = parse_config(str(xml), active=False)
        name = ET.fromstring(str(xml)).findtext("name") or uuid
        ha, priority = self._settings.get(uuid, (True, 0))
        return VM(uuid=uuid, name=name, host=source, cluster=host.cluster,
                  datacenter=host.datacenter, state=VmState.SHUTOFF, vcpus=cfg.vcpus,
                  memory_mib=cfg.memory_mib, highly_available=ha, ha_priority=priority,
                  devices=cfg.devices)  # fmt: skip

    def _xml(self, uuid: str) -> str:
        xml = self.store.vm_settings(uuid).get("ha_xml")
        if not xml:
            raise FleetError(
                f"no stored definition of VM {uuid}: it was never seen running with HA on",
                kind="conflict",
            )
        return str(xml)

    async def _tidy(self, snap: Snapshot) -> None:
        """Remember definitions of HA VMs (again when their devices changed); remove a fenced
        host's stale copy of a moved VM."""
        due: list[VM] = []
        for vm in snap.vms:
            known = self._xml_devices.get(vm.uuid, _UNREAD)
            if vm.highly_available and vm.active and (known is _UNREAD or known != vm.devices):
                link = self.fleet.links.get(vm.host)
                if link is not None and link.state == HostState.UP:  # else: when it answers
                    due.append(vm)
                    if len(due) == REMEMBER_PER_TICK:
                        break
        if due:
            await self._remember_all(due)
        for uuid, source in list(self.state.moved.items()):
            stale = [v for v in snap.vms if v.uuid == uuid and v.host == source]
            host = snap.host(source)
            if not stale:
                if host is not None and host.state == HostState.UP:
                    del self.state.moved[uuid]
                continue
            if host is None or host.state != HostState.UP or stale[0].active:
                continue
            try:
                link = self.fleet.links[source]
                await link.call(ha_ops.undefine_if_inactive(uuid), action="undefine", vm=uuid)
                self._log([f"vm {stale[0].name}: stale definition on {source} removed"])
                del self.state.moved[uuid]
                self._persist()
                await self.fleet.refresh_now(source)
            except FleetError as exc:
                log.info("HA: cannot remove %s from %s: %s", stale[0].name, source, exc.message)

    # -- bookkeeping ---------------------------------------------------------------------------
    def _persist(self) -> None:
        """Written when it changed (a tick that changes nothing writes nothing: the store's
        writes are whole-file, fsynced)."""
        doc = self.state.to_json()
        # Compared as data, not as its JSON text: dumping `running` of every host (20 000
        # VMs at 500 x 40) at every tick cost more than building it.
        if doc != self._saved:
            self._last_known.changed()
            self.store.set_setting(STATE_KEY, doc)
            self._saved = doc  # never changed: to_json shares no container with the state

    def _log(self, lines: list[str]) -> None:
        for line in lines:
            log.info("HA: %s", line)
            subject = line.split(":", 1)[0].split(" ", 1)
            event: dict[str, Any] = {"kind": "ha", "what": line}
            if subject[0] in ("host", "vm") and len(subject) > 1:
                event[subject[0]] = subject[1]
            self._on_event(event)

    def _update_metrics(self, snap: Snapshot) -> None:
        for key, value in self.state.counters.items():
            seen = self._counted.get(key, 0)
            if value > seen:
                kind, result = key.split(":", 1)
                family = self.metrics.fence_ops if kind == "fence" else self.metrics.restarts
                family.labels(result).inc(value - seen)
                self._counted[key] = value
        # HA VMs of hosts lost and not fenced yet, by their flag of now, and recoveries
        ha_now = {v.uuid for v in snap.vms if v.highly_available}
        lost = {
            u
            for r in self.state.hosts.values()
            if r.stage not in ("up", "fenced")
            for u in r.running
            if u in ha_now
        }
        waiting = len(lost | set(self.state.recoveries))
        self.metrics.vms_down.set(waiting)
        self.metrics.hosts_unfenced.set(
            sum(
                1
                for r in self.state.hosts.values()
                if r.stage in ("suspect", "needs_confirmation", "soft_wait")
            )
        )
        began = time.monotonic()
        if not self._reservation_due.due(snap, began):
            return
        prio = {v.uuid: v.ha_priority for v in snap.vms}
        for c in snap.clusters:
            res = ha_reservation(snap, c.name, prio)
            self.reservations[c.name] = {"ok": res.ok, "detail": res.detail, "ha_vms": res.ha_vms}
            self.metrics.reservation.labels(c.name).set(1.0 if res.ok else 0.0)
        self._reservation_due.took(time.monotonic() - began)


def _lock_refusal(exc: FleetError, vm: str, target: str, source: str) -> FleetError | None:
    """QEMU on `target` refused a disk another QEMU holds: most likely the VM still runs on
    `source` (a confirmation given while it was not off). Said plainly; the restart is retried
    like any failed one, and succeeds once that copy is gone."""
    image = locked_image(exc.raw or exc.message)
    if image is None:
        return None
    what = f"its disk {image}" if image else "one of its disks"
    return FleetError(
        f"{vm} not started on {target}: {what} is locked by another QEMU (image lock) - a copy "
        f"may still be running on {source}; make sure {source} is powered off",
        kind="conflict",
        host=target,
        vm=vm,
        raw=exc.raw,
    )
