"""The host side of the machine: liveness -> (soft fence) -> off, confirm off, on -> fenced.

A confirmed power-off is what makes a host fenced: its VMs cannot run any more, so they may run
elsewhere. A failed power-on afterwards changes nothing to that (oVirt's rule).
"""

from __future__ import annotations

from collections.abc import Callable

from ovtui.ha.guards import fence_hold, never_fenced
from ovtui.ha.model import (
    IN_FLIGHT_HOST_STAGES,
    UNKNOWN_STATES,
    UP_STATES,
    Cmd,
    HaState,
    HostObs,
    HostRecord,
    Result,
    World,
)

Log = Callable[[str], None]


def observe_host(st: HaState, world: World, host: HostObs, out: list[Cmd], log: Log) -> None:
    rec = st.host(host.name)
    g = world.guards_of(host.cluster)
    now = world.now
    if host.state in UP_STATES:
        if rec.stage in IN_FLIGHT_HOST_STAGES:
            return  # a power command is under way: its result decides, not a late answer
        if rec.stage != "up":
            log(f"host {host.name}: up again (was {rec.stage})")
            _stage(rec, "up", now)
        rec.running = {
            v.uuid: [v.name, v.ha, v.priority] for v in world.vms_on(host.name) if v.active
        }
        rec.failures, rec.last_error, rec.soft_tried, rec.held = 0, "", False, ""
        return
    if host.state in UNKNOWN_STATES or host.state in ("maintenance", "down"):
        return  # not heard from yet, or switched off / parked on purpose: nothing to fence
    # non_responsive (or non_operational: reachable, handled by the resiliency policy)
    if host.state != "non_responsive":
        return
    if rec.stage == "up":
        _stage(rec, "suspect", now)
        log(f"host {host.name}: non-responsive, fencing in {g.non_responsive_grace_seconds:g} s")
        return
    if rec.stage == "suspect" and now - rec.since >= g.non_responsive_grace_seconds:
        why_never = never_fenced(host, g)
        if why_never:
            _stage(rec, "needs_confirmation", now)
            rec.held = why_never  # shown with the stage (GET /api/v1/ha, the HA screen)
            log(f"host {host.name}: not fenced: {why_never}; its VMs wait for "
                "'confirm host has been rebooted'")  # fmt: skip
            return
        hold = fence_hold(world, host, rec, g)
        if hold:
            if hold.split(" ", 1)[0] != rec.held.split(" ", 1)[0] or not rec.held:
                log(f"host {host.name}: fencing held: {hold}")
            rec.held = hold
            return
        rec.held = ""
        if host.soft_fence and not rec.soft_tried:
            rec.soft_tried = True
            _stage(rec, "soft_fencing", now)
            out.append(Cmd("soft_fence", host.name, reason="non-responsive"))
            log(f"host {host.name}: soft fence")
            return
        _power_off(rec, now, out, log)
    elif rec.stage == "soft_wait" and now - rec.since >= g.soft_fence_wait_seconds:
        log(f"host {host.name}: still non-responsive after the soft fence")
        hold = fence_hold(world, host, rec, g)
        if hold:
            _stage(rec, "suspect", now - g.non_responsive_grace_seconds)
            return
        _power_off(rec, now, out, log)


def _power_off(rec: HostRecord, now: float, out: list[Cmd], log: Log) -> None:
    rec.last_power_op = now
    _stage(rec, "fencing_off", now)
    out.append(Cmd("power_off", rec.name, reason="fence"))
    log(f"host {rec.name}: hard fence: power off")


def on_result(st: HaState, world: World, res: Result, out: list[Cmd], log: Log) -> bool:
    """Applies a power command's result; True when the host just became fenced."""
    rec = st.host(res.cmd.host)
    g = world.guards_of(world.hosts[rec.name].cluster) if rec.name in world.hosts else None
    now, kind = world.now, res.cmd.kind
    if kind == "soft_fence" and rec.stage == "soft_fencing":
        log(f"host {rec.name}: soft fence {'done' if res.ok else 'failed: ' + res.detail}")
        _stage(rec, "soft_wait", now)
    elif kind == "power_off" and rec.stage == "fencing_off":
        if res.ok:
            _stage(rec, "confirming_off", now)
            out.append(Cmd("power_status", rec.name, reason="confirm off"))
        else:
            _fence_failed(st, rec, now, res.detail, log)
    elif kind == "power_status" and rec.stage == "confirming_off":
        if res.ok and res.detail == "off":
            rec.fenced_at, rec.fenced_by = now, "power management"
            st.count("fence:ok")
            log(f"host {rec.name}: power off confirmed: fenced")
            rec.last_power_op = now
            _stage(rec, "powering_on", now)
            out.append(Cmd("power_on", rec.name, reason="after fence"))
            return True
        limit = g.power_off_confirm_seconds if g else 60.0
        if now - rec.since < limit and (not res.ok or res.detail == "on"):
            out.append(Cmd("power_status", rec.name, reason="confirm off"))
        else:
            _fence_failed(st, rec, now, f"still {res.detail or 'unknown'} after power off", log)
    elif kind == "power_on" and rec.stage == "powering_on":
        if res.ok:
            log(f"host {rec.name}: powered on again")
        else:
            log(f"host {rec.name}: power on failed ({res.detail}); it stays fenced")
        _stage(rec, "fenced", now)
    return False


def _fence_failed(st: HaState, rec: HostRecord, now: float, why: str, log: Log) -> None:
    st.count("fence:failed")
    rec.failures += 1
    rec.last_error = why
    log(f"host {rec.name}: fence failed: {why}; no VM is restarted")
    _stage(rec, "suspect", now)


def confirm_rebooted(
    st: HaState, host: str, who: str, now: float, log: Log, powered_off: bool = False
) -> bool:
    """An operator says the host was rebooted (or is off): its VMs may run elsewhere.
    powered_off: an operator's fence whose power-off was confirmed, from any stage."""
    rec = st.host(host)
    if rec.stage in IN_FLIGHT_HOST_STAGES or (
        not powered_off and rec.stage in ("up", "fenced", "powering_on")
    ):
        return False
    rec.fenced_at, rec.fenced_by, rec.held = now, who, ""
    if powered_off:
        rec.last_power_op = now
    st.count("fence:manual")
    _stage(rec, "fenced", now)
    how = "fenced it (power-off confirmed)" if powered_off else "confirmed it has been rebooted"
    log(f"host {host}: {who} {how}: fenced")
    return True


def resume(rec: HostRecord, out: list[Cmd], log: Log) -> None:
    """After an engine restart: a power command may have been under way. Ask, never redo."""
    if rec.stage in ("fencing_off", "confirming_off"):
        _stage(rec, "confirming_off", rec.since)
        out.append(Cmd("power_status", rec.name, reason="resume: confirm off"))
        log(f"host {rec.name}: resuming: is it off?")
    elif rec.stage == "powering_on":
        _stage(rec, "fenced", rec.since)
        log(f"host {rec.name}: resuming: fenced (power on may not have happened)")
    elif rec.stage == "soft_fencing":
        _stage(rec, "soft_wait", rec.since)


def _stage(rec: HostRecord, stage: str, now: float) -> None:
    rec.stage, rec.since = stage, now
