"""What the dashboard reads from the API, parsed once into small typed rows.

The JSON is the contract with the engine, so parsing is tolerant: a field the engine adds is
ignored and a missing one gets a neutral default, instead of the dashboard crashing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ovtui.model import HostState, LoadSource, VmState


@dataclass(frozen=True, slots=True)
class HostRow:
    name: str
    cluster: str = ""
    datacenter: str = ""
    state: str = ""
    state_reason: str = ""
    cpu_model: str = ""
    cpus: int = 0
    memory_mib: int = 0
    memory_used_mib: int = 0
    cpu_usage: float | None = None
    vms_running: int = 0
    vcpus_committed: int = 0
    synthetic: bool = False
    live_migration: bool = True
    maintenance: bool = False
    power_management: bool = False
    networks: tuple[dict[str, Any], ...] = ()  # its cluster's networks (GET /hosts)
    vms_config_pending: int = 0  # VMs whose XML is being read: committed figures incomplete

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> HostRow:
        return cls(
            name=str(d["name"]),
            cluster=str(d.get("cluster", "")),
            datacenter=str(d.get("datacenter", "")),
            state=str(d.get("state", "")),
            state_reason=str(d.get("state_reason") or ""),
            cpu_model=str(d.get("cpu_model") or ""),
            cpus=int(d.get("cpus") or 0),
            memory_mib=int(d.get("memory_mib") or 0),
            memory_used_mib=int(d.get("memory_used_mib") or 0),
            cpu_usage=_opt_float(d.get("cpu_usage")),
            vms_running=int(d.get("vms_running") or 0),
            vcpus_committed=int(d.get("vcpus_committed") or 0),
            synthetic=d.get("load_source") == LoadSource.SYNTHETIC,
            live_migration=bool(d.get("live_migration", True)),
            maintenance=bool(d.get("maintenance", False)),
            power_management=bool(d.get("power_management", False)),
            networks=tuple(n for n in d.get("networks") or () if isinstance(n, dict)),
            vms_config_pending=int(d.get("vms_config_pending") or 0),
        )

    @property
    def up(self) -> bool:
        return self.state == HostState.UP


@dataclass(frozen=True, slots=True)
class VmRow:
    uuid: str
    name: str
    host: str = ""
    cluster: str = ""
    datacenter: str = ""
    state: str = ""
    vcpus: int = 0
    memory_mib: int = 0
    cpu_usage: float | None = None
    synthetic: bool = False
    highly_available: bool = False
    ha_priority: int = 0
    pinned: bool = False
    migratable: bool = True
    role: str = ""
    affinity_group: str = ""
    anti_affinity_group: str = ""
    persistent: bool = True
    memory_current_mib: int = 0  # given to the guest now (balloon); 0: not reported
    # While state is "migrating": from where, to where, and how (live | cold | offline).
    migration_source: str = ""
    migration_target: str = ""
    migration_mode: str = ""
    config_pending: bool = False  # its XML is being read: sizes and flags not known yet

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> VmRow:
        return cls(
            uuid=str(d.get("uuid") or d["name"]),
            name=str(d["name"]),
            host=str(d.get("host", "")),
            cluster=str(d.get("cluster", "")),
            datacenter=str(d.get("datacenter", "")),
            state=str(d.get("state", "")),
            vcpus=int(d.get("vcpus") or 0),
            memory_mib=int(d.get("memory_mib") or 0),
            cpu_usage=_opt_float(d.get("cpu_usage")),
            synthetic=d.get("load_source") == LoadSource.SYNTHETIC,
            highly_available=bool(d.get("highly_available", False)),
            ha_priority=int(d.get("ha_priority") or 0),
            pinned=bool(d.get("pinned", False)),
            migratable=bool(d.get("migratable", True)),
            role=str(d.get("role") or ""),
            affinity_group=str(d.get("affinity_group") or ""),
            anti_affinity_group=str(d.get("anti_affinity_group") or ""),
            persistent=bool(d.get("persistent", True)),
            memory_current_mib=int(d.get("memory_current_mib") or 0),
            migration_source=str(d.get("migration_source") or ""),
            migration_target=str(d.get("migration_target") or ""),
            migration_mode=str(d.get("migration_mode") or ""),
            config_pending=bool(d.get("config_pending", False)),
        )

    @property
    def running(self) -> bool:
        return self.state == VmState.RUNNING

    @property
    def paused(self) -> bool:
        return self.state in (VmState.PAUSED, VmState.PMSUSPENDED)

    @property
    def migrating(self) -> bool:
        return self.state == VmState.MIGRATING

    @property
    def active(self) -> bool:
        return vm_active(self.state, self.migration_mode)


@dataclass(frozen=True, slots=True)
class FleetData:
    """One poll's worth of the fleet, with the lookups the screens need."""

    hosts: tuple[HostRow, ...] = ()
    vms: tuple[VmRow, ...] = ()
    overcommit: dict[str, int] = field(default_factory=dict)  # cluster -> memory over-commit %

    @classmethod
    def from_json(
        cls,
        hosts: list[dict[str, Any]],
        vms: list[dict[str, Any]],
        clusters: list[dict[str, Any]],
        *,
        parsed: tuple[VmRow, ...] | None = None,
    ) -> FleetData:
        """`parsed`: VMs already parsed (an earlier reading kept), instead of `vms`."""
        return cls(
            hosts=tuple(HostRow.from_json(h) for h in hosts),
            vms=parsed if parsed is not None else tuple(VmRow.from_json(v) for v in vms),
            overcommit={
                str(c["name"]): int(c.get("memory_overcommit_percent") or 100) for c in clusters
            },
        )

    @property
    def synthetic(self) -> bool:
        return any(h.synthetic for h in self.hosts) or any(v.synthetic for v in self.vms)

    def host(self, name: str) -> HostRow | None:
        return next((h for h in self.hosts if h.name == name), None)

    def vm(self, uuid: str) -> VmRow | None:
        return next((v for v in self.vms if v.uuid == uuid), None)

    def vms_on(self, host: str) -> list[VmRow]:
        return [v for v in self.vms if v.host == host]

    def memory_limit_mib(self, host: HostRow) -> int:
        """What the engine lets VMs commit on the host (ovtui.fleet.migration_checks)."""
        return host.memory_mib * self.overcommit.get(host.cluster, 100) // 100

    def memory_free_mib(self, host: HostRow) -> int:
        return max(0, self.memory_limit_mib(host) - host.memory_used_mib)

    def migration_targets(self, vm: VmRow) -> list[HostRow]:
        """Hosts a migration of the VM may go to: same cluster, up, not its own host."""
        return [h for h in self.hosts if h.cluster == vm.cluster and h.up and h.name != vm.host]


_ACTIVE_STATES = frozenset(
    (VmState.RUNNING, VmState.PAUSED, VmState.SHUTTING_DOWN, VmState.BLOCKED, VmState.PMSUSPENDED)
)


def vm_active(state: str, migration_mode: str) -> bool:
    """Mirrors ovtui.model.VM.active: a VM in these states holds memory on its host."""
    return state in _ACTIVE_STATES or (state == VmState.MIGRATING and migration_mode != "offline")


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)
