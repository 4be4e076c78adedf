"""The VM side of the machine: which HA VMs to bring back, in what order, how often to retry.

Only two things create a recovery: its host was confirmed fenced (power-off confirmed, or an
operator's confirmation), or it crashed on a host that answers. A VM shut down by a user or by
its guest is never restarted. Non-HA VMs of a fenced host stay down and are listed.
"""

from __future__ import annotations

from collections.abc import Callable

from ovtui.ha.model import UNKNOWN_STATES, Cmd, HaState, Recovery, Result, World

Log = Callable[[str], None]
#: How long a crashed VM may still show as running (the read after the event is late).
STALE_READ = 30.0


def on_fenced(st: HaState, world: World, host: str, log: Log) -> None:
    rec = st.host(host)
    for uuid, (name, ha, priority) in sorted(rec.running.items(), key=lambda kv: kv[1][0]):
        now_vm = world.vms.get(uuid)
        if now_vm is not None and now_vm.active and now_vm.host != host:
            continue  # it runs elsewhere already (migrated away before the host was lost)
        if now_vm is not None:
            ha, priority = now_vm.ha, now_vm.priority  # the settings of now, not of then
        if ha:
            if uuid not in st.recoveries:
                st.recoveries[uuid] = Recovery(uuid, name, host, int(priority), "fenced", world.now,
                                               next_try=world.now)  # fmt: skip
                log(f"vm {name}: HA, priority {priority}: to restart (host {host} fenced)")
        else:
            st.left_down[uuid] = [name, host, world.now]
            log(f"vm {name}: not HA: stays down (host {host} fenced)")
    rec.running = {}


def on_vm_stopped(st: HaState, world: World, uuid: str, host: str, crashed: bool, log: Log) -> None:
    vm = world.vms.get(uuid)
    name = vm.name if vm else uuid
    if not crashed:
        if vm is not None and vm.ha:
            log(f"vm {name}: shut down on {host} (user or guest): not restarted")
        return
    if vm is not None and not vm.ha:
        log(f"vm {name}: crashed on {host}; not HA: not restarted")
        return
    h = world.hosts.get(host)
    if vm is None or h is None or h.state != "up" or uuid in st.recoveries:
        return
    st.recoveries[uuid] = Recovery(uuid, name, host, vm.priority, "crashed", world.now,
                                   next_try=world.now)  # fmt: skip
    log(f"vm {name}: HA, crashed on {host}: to restart")


def step(st: HaState, world: World, out: list[Cmd], log: Log) -> None:
    """Issues the restarts that are due, highest priority first."""
    if any(h.state in UNKNOWN_STATES for h in world.hosts.values()):
        return  # some host is not read yet: a VM could be running there
    order = sorted(st.recoveries.values(), key=lambda r: (-r.priority, r.created, r.name))
    for r in order:
        if r.stage != "pending":
            continue
        vm = world.vms.get(r.uuid)
        where = world.hosts.get(vm.host) if vm is not None else None
        running = vm is not None and vm.active and where is not None and where.state == "up"
        if not running:
            r.seen_down = True
        elif r.cause == "crashed" and not r.seen_down and world.now - r.created < STALE_READ:
            continue  # the snapshot predates the crash: wait for the read the event asked for
        if running and vm is not None:
            log(f"vm {r.name}: running on {vm.host}: recovery done")
            del st.recoveries[r.uuid]
            continue
        if vm is not None and not vm.ha:
            log(f"vm {r.name}: no longer HA: recovery dropped")
            del st.recoveries[r.uuid]
            continue
        if world.now < r.next_try:
            continue
        wait = world.guards_of(_cluster(world, r)).priority_wait_seconds
        higher = [o for o in order if o.priority > r.priority and o.uuid in st.recoveries]
        if higher and world.now - r.created < wait:
            continue
        r.stage = "starting"
        why = f"HA restart ({r.cause} on {r.source}), attempt {r.attempts + 1}"
        out.append(Cmd("restart", vm=r.uuid, source=r.source, reason=why))


def _cluster(world: World, r: Recovery) -> str:
    h = world.hosts.get(r.source)
    return h.cluster if h else ""


def on_result(st: HaState, world: World, res: Result, log: Log) -> None:
    r = st.recoveries.get(res.cmd.vm)
    if r is None or r.stage != "starting":
        return
    if res.ok:
        st.count("restart:ok")
        log(f"vm {r.name}: restarted on {res.detail}")
        if res.detail != r.source:
            st.moved[r.uuid] = r.source
        del st.recoveries[r.uuid]
        return
    g = world.guards_of(_cluster(world, r))
    r.attempts += 1
    r.stage, r.last_error = "pending", res.detail
    r.target = ""  # refused there: the next try chooses again
    st.count("restart:failed")
    # The first start and `restart_retries` retries come every restart_retry_seconds.
    short = r.attempts <= g.restart_retries
    wait = g.restart_retry_seconds if short else g.restart_retry_long_seconds
    r.next_try = world.now + wait
    log(f"vm {r.name}: restart failed ({res.detail}); attempt {r.attempts + 1} in {wait:g} s")


def resume(st: HaState, log: Log) -> None:
    """After an engine restart: a start may have been under way. The next step first looks
    whether the VM runs somewhere, so it is never started twice."""
    for r in st.recoveries.values():
        if r.stage == "starting":
            r.stage = "pending"
            log(f"vm {r.name}: resuming its recovery")
