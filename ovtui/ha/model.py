"""What the HA machine sees, remembers and asks for. Plain data; the state is JSON in the store.

Host stages:  up -> suspect -> [soft_fencing -> soft_wait ->] fencing_off -> confirming_off
              -> powering_on -> fenced;  suspect -> needs_confirmation (no power management or
              fencing disabled) -> fenced once an operator confirms the host was rebooted.
Recovery stages (one per HA VM to bring back): pending -> starting -> (running: forgotten) and
back to pending with a later next_try when a start fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

UP_STATES = ("up",)
# Host states in which the machine has heard nothing yet (the engine just started): no action.
UNKNOWN_STATES = ("connecting",)
IN_FLIGHT_HOST_STAGES = ("soft_fencing", "fencing_off", "confirming_off", "powering_on")


@dataclass(frozen=True, slots=True)
class HostObs:
    name: str
    cluster: str
    state: str  # a HostState value: up, non_responsive, connecting, down, maintenance, ...
    power_managed: bool = False
    soft_fence: bool = False


@dataclass(frozen=True, slots=True)
class VmObs:
    uuid: str
    name: str
    host: str
    active: bool  # holds CPU and memory there (running, paused, ...)
    ha: bool = False
    priority: int = 0


@dataclass(frozen=True, slots=True)
class Guards:
    """A cluster's [clusters.ha] values the machine needs (config/ha_schema.py)."""

    fencing_enabled: bool = True
    skip_fencing_unreachable_percent: int = 50
    disable_fence_at_startup_seconds: float = 300.0
    fence_quiet_time_seconds: float = 180.0
    non_responsive_grace_seconds: float = 60.0
    soft_fence_wait_seconds: float = 60.0
    power_off_confirm_seconds: float = 60.0
    restart_retry_seconds: float = 30.0
    restart_retries: int = 10
    restart_retry_long_seconds: float = 1800.0
    priority_wait_seconds: float = 600.0


@dataclass(frozen=True, slots=True)
class World:
    """One observation: the published snapshot boiled down, at time `now` (seconds)."""

    now: float
    engine_started: float
    hosts: dict[str, HostObs]
    vms: dict[str, VmObs]
    guards: dict[str, Guards] = field(default_factory=dict)  # per cluster
    # The VMs grouped by host once: every tick asks each host's (all 20 000 VMs scanned for
    # each of 500 hosts cost ~0.2 s of CPU at every 1 s tick).
    _by_host: dict[str, list[VmObs]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for v in self.vms.values():
            self._by_host.setdefault(v.host, []).append(v)

    def guards_of(self, cluster: str) -> Guards:
        return self.guards.get(cluster, Guards())

    def vms_on(self, host: str) -> list[VmObs]:
        """The VMs the observation shows on `host`, in the order of `vms`."""
        return self._by_host.get(host, [])


@dataclass(frozen=True, slots=True)
class Cmd:
    """Something for the service to do. kind: soft_fence | power_off | power_status | power_on
    | restart. `vm` for restarts; `source` is the host the VM ran on."""

    kind: str
    host: str = ""
    vm: str = ""
    source: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Result:
    """What a command did. For power_status, detail is "on" or "off" when ok."""

    cmd: Cmd
    ok: bool
    detail: str = ""


@dataclass(slots=True)
class HostRecord:
    name: str
    stage: str = "up"
    since: float = 0.0  # when the current stage began
    held: str = ""  # the guard holding fencing back, logged once per change
    last_power_op: float | None = None
    soft_tried: bool = False
    failures: int = 0
    last_error: str = ""
    fenced_at: float | None = None
    fenced_by: str = ""  # "power management" or the operator who confirmed
    # VMs active on the host when it was last up: uuid -> [name, ha, priority]
    running: dict[str, list[Any]] = field(default_factory=dict)


@dataclass(slots=True)
class Recovery:
    uuid: str
    name: str
    source: str  # the host it ran on
    priority: int
    cause: str  # "fenced" | "crashed"
    created: float
    stage: str = "pending"
    attempts: int = 0
    next_try: float = 0.0
    target: str = ""
    last_error: str = ""
    # A crash is reported before the next read shows it: until the VM has been seen down
    # once, a "running" in the snapshot is the old read, not a restart.
    seen_down: bool = False


_HOST = tuple(f.name for f in fields(HostRecord) if f.name != "running")
_RECOVERY = tuple(f.name for f in fields(Recovery))


def _host_json(rec: HostRecord) -> dict[str, Any]:
    doc = {f: getattr(rec, f) for f in _HOST}
    doc["running"] = {uuid: list(v) for uuid, v in rec.running.items()}
    return doc


@dataclass(slots=True)
class HaState:
    hosts: dict[str, HostRecord] = field(default_factory=dict)
    recoveries: dict[str, Recovery] = field(default_factory=dict)
    # Non-HA VMs of fenced hosts: they stay down and are reported. uuid -> [name, host, since]
    left_down: dict[str, list[Any]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)  # "fence:ok", "restart:failed", ...
    # HA VMs restarted away from a host: uuid -> that host, whose stale definition goes
    moved: dict[str, str] = field(default_factory=dict)

    def host(self, name: str) -> HostRecord:
        rec = self.hosts.get(name)
        if rec is None:
            rec = self.hosts[name] = HostRecord(name)
        return rec

    def count(self, key: str) -> None:
        self.counters[key] = self.counters.get(key, 0) + 1

    def to_json(self) -> dict[str, Any]:
        """What dataclasses.asdict gives, built by hand: the service compares it with the last
        write at every tick, and asdict (a deepcopy of every value) cost ~85 ms a tick with
        500 hosts x 40 VMs in `running`. Every container is copied: the document written to
        the store never shares a list with the live state."""
        return {
            "hosts": {k: _host_json(h) for k, h in self.hosts.items()},
            "recoveries": {
                k: {f: getattr(r, f) for f in _RECOVERY} for k, r in self.recoveries.items()
            },
            "left_down": {k: list(v) for k, v in self.left_down.items()},
            "counters": dict(self.counters),
            "moved": dict(self.moved),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> HaState:
        if not data:
            return cls()
        return cls(
            hosts={k: HostRecord(**v) for k, v in data.get("hosts", {}).items()},
            recoveries={k: Recovery(**v) for k, v in data.get("recoveries", {}).items()},
            left_down={k: list(v) for k, v in data.get("left_down", {}).items()},
            counters={k: int(v) for k, v in data.get("counters", {}).items()},
            moved={str(k): str(v) for k, v in data.get("moved", {}).items()},
        )
