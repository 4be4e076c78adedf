"""A deterministic simulator for the HA machine, in the manner of pve-ha-manager's src/test/:
a command list in, a log out. Virtual time, one tick a second; commands are carried out at
once and their results come back on the next tick.

    hosts h1 h2 h3              every host up, with power management
    nopower h3                  h3 has none (needs an operator's confirmation)
    softfence h2                h2 has a soft-fence command (it does not help)
    vm vm1 h1 ha 50             an HA VM of priority 50 running on h1; `vm vm2 h1` is not HA
    guard NAME VALUE            a Guards field (e.g. guard disable_fence_at_startup_seconds 0)
    at T kill h1                h1 dies: daemon and VMs gone, nothing answers
    at T freeze h1              split brain: h1's daemon hangs, its VMs keep running
    at T isolate h1             h1 unreachable from the engine, running on (network)
    at T reconnect h1           h1 reachable again
    at T bmc-down h1 | bmc-up h1
    at T break-power-on h1      the BMC switches h1 off but it never powers on again
    at T confirm h3 alice       an operator confirms h3 was rebooted
    at T crash vm3 | shutdown vm3
    at T fail-start vm1 N       the next N starts of vm1 fail
    at T restart-engine         the engine stops mid-flight and starts again from the store
    run T                       simulate until T

Every line of the log is "T subject: what". The simulator itself checks after every tick that
no VM runs on two powered hosts ("SPLIT BRAIN" in the log if it ever does).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from ovtui.ha import machine
from ovtui.ha.machine import Confirmed, Event, VmStopped
from ovtui.ha.model import Cmd, Guards, HaState, HostObs, Result, VmObs, World

CLUSTER = "c1"


@dataclass
class SimHost:
    name: str
    power: bool = True
    daemon: bool = True  # libvirtd answers
    network: bool = True  # reachable from the engine
    bmc: bool = True
    managed: bool = True
    soft_fence: bool = False
    power_on_works: bool = True


@dataclass
class SimVm:
    uuid: str
    name: str
    ha: bool
    priority: int
    host: str  # where it is defined (last started)
    copies: set[str] = field(default_factory=set)  # hosts where a QEMU of it runs
    fail_starts: int = 0


@dataclass
class Sim:
    hosts: dict[str, SimHost] = field(default_factory=dict)
    vms: dict[str, SimVm] = field(default_factory=dict)
    guards: dict[str, float] = field(default_factory=dict)
    actions: list[tuple[float, list[str]]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    stored: str = ""  # the HA state as the store holds it (JSON), written every tick
    started: float = 0.0

    def say(self, t: float, line: str) -> None:
        self.log.append(f"{t:5.0f} {line}")

    # -- the world as the engine would see it --------------------------------------------------
    def world(self, now: float) -> World:
        hosts = {}
        for h in self.hosts.values():
            state = "up" if h.power and h.daemon and h.network else "non_responsive"
            hosts[h.name] = HostObs(h.name, CLUSTER, state, h.managed, h.soft_fence)
        vms = {}
        for v in self.vms.values():
            up = hosts[v.host].state == "up"
            vms[v.uuid] = VmObs(v.uuid, v.name, v.host, v.host in v.copies and up, v.ha, v.priority)
        g = Guards(**{k: type(getattr(Guards(), k))(v) for k, v in self.guards.items()})
        return World(now, self.started, hosts, vms, {CLUSTER: g})

    # -- commands ---------------------------------------------------------------------------
    def carry_out(self, t: float, cmd: Cmd) -> Result:
        if cmd.kind == "restart":
            return self._start(t, cmd)
        h = self.hosts[cmd.host]
        if cmd.kind == "soft_fence":
            return Result(cmd, h.power and h.network, "")  # restarts a daemon that is not hung
        if not h.bmc:
            return Result(cmd, False, "BMC does not answer")
        if cmd.kind == "power_off":
            h.power = False
            for v in self.vms.values():
                v.copies.discard(h.name)
            return Result(cmd, True, "")
        if cmd.kind == "power_status":
            return Result(cmd, True, "on" if h.power else "off")
        if cmd.kind == "power_on":
            if not h.power_on_works:
                return Result(cmd, False, "the host does not power on")
            h.power, h.daemon = True, True
            return Result(cmd, True, "")
        raise ValueError(cmd.kind)

    def _start(self, t: float, cmd: Cmd) -> Result:
        v = self.vms[cmd.vm]
        if v.fail_starts:
            v.fail_starts -= 1
            return Result(cmd, False, "no host could start it")
        w = self.world(t)
        up = sorted(
            (h for h in w.hosts.values() if h.state == "up"),
            key=lambda h: (sum(1 for x in self.vms.values() if h.name in x.copies), h.name),
        )
        if not up:
            return Result(cmd, False, "no host is up")
        v.host = up[0].name
        v.copies.add(v.host)
        return Result(cmd, True, up[0].name)

    # -- the script -------------------------------------------------------------------------
    def event(self, t: float, words: list[str], events: list[Event]) -> bool:
        """Applies one `at` action; True when the engine restarts."""
        verb, *args = words
        self.say(t, f"sim: {' '.join(words)}")
        if verb == "kill":
            h = self.hosts[args[0]]
            h.daemon = False
            for v in self.vms.values():
                v.copies.discard(h.name)
        elif verb == "freeze":
            self.hosts[args[0]].daemon = False
        elif verb == "isolate":
            self.hosts[args[0]].network = False
        elif verb == "reconnect":
            self.hosts[args[0]].network = True
        elif verb in ("bmc-down", "bmc-up"):
            self.hosts[args[0]].bmc = verb == "bmc-up"
        elif verb == "break-power-on":
            self.hosts[args[0]].power_on_works = False
        elif verb == "confirm":
            events.append(Confirmed(args[0], args[1]))
        elif verb in ("crash", "shutdown"):
            v = next(v for v in self.vms.values() if v.name == args[0])
            v.copies.discard(v.host)
            events.append(VmStopped(v.uuid, v.host, verb == "crash"))
        elif verb == "fail-start":
            next(v for v in self.vms.values() if v.name == args[0]).fail_starts = int(args[1])
        elif verb == "restart-engine":
            return True
        else:
            raise ValueError(f"unknown action {verb!r}")
        return False

    def split_brain(self) -> list[str]:
        return [f"{v.name} on {' and '.join(sorted(v.copies))}" for v in self.vms.values()
                if len(v.copies) > 1]  # fmt: skip

    def run(self, until: float) -> None:
        st = HaState.from_json(json.loads(self.stored) if self.stored else None)
        results: list[Result] = []
        pending = sorted(self.actions, key=lambda a: a[0])
        t = self.started
        while t <= until:
            events: list[Event] = []
            restart = False
            while pending and pending[0][0] <= t:
                _, words = pending.pop(0)
                restart = self.event(t, words, events) or restart
            if restart:
                # Results of commands in flight are lost; the state is what the store holds.
                results = []
                self.started = t
                st = HaState.from_json(json.loads(self.stored) if self.stored else None)
                cmds, lines = machine.resume(st)
                for line in lines:
                    self.say(t, line)
                results = [self.carry_out(t, c) for c in cmds]
                for c in cmds:
                    self.say(t, f"cmd: {c.kind} {c.host or self.vms[c.vm].name}")
            cmds, lines = machine.tick(st, self.world(t), results, events)
            for line in lines:
                self.say(t, line)
            self.stored = json.dumps(st.to_json(), sort_keys=True)  # before acting: write-ahead
            results = [self.carry_out(t, c) for c in cmds]
            for c in cmds:
                self.say(t, f"cmd: {c.kind} {c.host or self.vms[c.vm].name}")
            for twice in self.split_brain():
                self.say(t, f"SPLIT BRAIN: {twice}")
            t += 1


def parse(text: str) -> tuple[Sim, float]:
    sim = Sim()
    until = 0.0
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        verb, *args = words
        if verb == "hosts":
            for name in args:
                sim.hosts[name] = SimHost(name)
        elif verb == "nopower":
            sim.hosts[args[0]].managed = False
        elif verb == "softfence":
            sim.hosts[args[0]].soft_fence = True
        elif verb == "vm":
            ha = len(args) > 2 and args[2] == "ha"
            prio = int(args[3]) if ha and len(args) > 3 else 0
            uuid = f"uuid-{args[0]}"
            sim.vms[uuid] = SimVm(uuid, args[0], ha, prio, args[1], {args[1]})
        elif verb == "guard":
            if args[0] not in {f.name for f in dataclasses.fields(Guards)}:
                raise ValueError(f"unknown guard {args[0]!r}")
            sim.guards[args[0]] = float(args[1])
        elif verb == "at":
            sim.actions.append((float(args[0]), args[1:]))
        elif verb == "run":
            until = float(args[0])
        else:
            raise ValueError(f"unknown command {verb!r}")
    return sim, until


def simulate(text: str) -> str:
    sim, until = parse(text)
    sim.run(until)
    return "\n".join(sim.log) + "\n"
