"""One tick of the HA machine: results of earlier commands, operator and VM events, then the
world as observed now -> new state, commands, log lines. Pure and deterministic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ovtui.ha import fencing, recovery
from ovtui.ha.model import Cmd, HaState, Result, World


@dataclass(frozen=True, slots=True)
class VmStopped:
    uuid: str
    host: str
    crashed: bool  # libvirt's STOPPED/CRASHED detail, not a shutdown or destroy


@dataclass(frozen=True, slots=True)
class Confirmed:
    host: str
    who: str
    powered_off: bool = False  # an operator's fence through power management, not a word


Event = VmStopped | Confirmed


def tick(
    st: HaState, world: World, results: Sequence[Result] = (), events: Sequence[Event] = ()
) -> tuple[list[Cmd], list[str]]:
    out: list[Cmd] = []
    lines: list[str] = []
    log = lines.append
    for res in results:
        if res.cmd.kind == "restart":
            recovery.on_result(st, world, res, log)
        elif fencing.on_result(st, world, res, out, log):
            recovery.on_fenced(st, world, res.cmd.host, log)
    for ev in events:
        if isinstance(ev, Confirmed):
            if fencing.confirm_rebooted(st, ev.host, ev.who, world.now, log, ev.powered_off):
                recovery.on_fenced(st, world, ev.host, log)
        else:
            recovery.on_vm_stopped(st, world, ev.uuid, ev.host, ev.crashed, log)
    for host in sorted(world.hosts.values(), key=lambda h: h.name):
        fencing.observe_host(st, world, host, out, log)
    recovery.step(st, world, out, log)
    return out, lines


def resume(st: HaState) -> tuple[list[Cmd], list[str]]:
    """After an engine restart, before the first tick."""
    out: list[Cmd] = []
    lines: list[str] = []
    for rec in sorted(st.hosts.values(), key=lambda r: r.name):
        fencing.resume(rec, out, lines.append)
    recovery.resume(st, lines.append)
    return out, lines
