"""Plans are data: steps with a reason a person can read. Only the engine acts on them.

Move and Stuck serve the maintenance evacuation; Plan and Step serve the scheduling policies
(balancing, power saving): ordered steps, each with its reason, the predicted utilisation of
every host before and after, and figures that say how good the plan is. A Plan round-trips
through plain dicts (to_dict / plan_from_dict) so the engine can store and serve it as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class Move:
    vm_uuid: str
    vm_name: str
    source: str
    target: str
    reason: str


@dataclass(frozen=True, slots=True)
class Stuck:
    """A VM the plan could not place, and why."""

    vm_uuid: str
    vm_name: str
    reason: str


class StepKind(StrEnum):
    MIGRATE = "migrate"  # vm from host -> target
    MAINTENANCE = "maintenance"  # host leaves service (it is empty by then)
    POWER_OFF = "power_off"
    POWER_ON = "power_on"
    ACTIVATE = "activate"  # host returns to service


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    host: str  # the host acted on; for a migration, the source
    reason: str
    vm_uuid: str = ""
    vm_name: str = ""
    target: str = ""
    memory_mib: int = 0  # what a migration costs (memory to copy)
    # Predicted CPU of the target after this move, for the executor's re-check.
    target_cpu_after: float | None = None

    def describe(self) -> str:
        if self.kind == StepKind.MIGRATE:
            return f"migrate {self.vm_name} {self.host} -> {self.target}"
        return f"{self.kind.value.replace('_', ' ')} {self.host}"


@dataclass(frozen=True, slots=True)
class HostLoad:
    """Predicted utilisation of one host: CPU and memory as fractions, memory of the usable."""

    cpu: float | None
    memory: float
    vms: int
    in_service: bool  # up, not in maintenance, not powered off


@dataclass(frozen=True, slots=True)
class PlanMetrics:
    hosts_in_service_before: int = 0
    hosts_in_service_after: int = 0
    hosts_over_before: int = 0
    hosts_over_after: int = 0
    cpu_stddev_before: float = 0.0
    cpu_stddev_after: float = 0.0
    migrations: int = 0
    memory_moved_mib: int = 0
    hosts_released: int = 0
    hosts_woken: int = 0


@dataclass(frozen=True, slots=True)
class Plan:
    cluster: str
    kind: str  # "balance" | "power_saving"
    policy: str  # the cluster's scheduling policy
    created_at: float
    summary: str
    steps: tuple[Step, ...] = ()
    notes: tuple[str, ...] = ()  # watched hosts, what could not be done and why
    stuck: tuple[Stuck, ...] = ()
    before: Mapping[str, HostLoad] = field(default_factory=lambda: MappingProxyType({}))
    after: Mapping[str, HostLoad] = field(default_factory=lambda: MappingProxyType({}))
    params: Mapping[str, float | str] = field(default_factory=lambda: MappingProxyType({}))
    metrics: PlanMetrics = field(default_factory=PlanMetrics)
    id: str = ""

    def with_id(self, plan_id: str) -> Plan:
        return replace(self, id=plan_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "cluster": self.cluster,
            "kind": self.kind,
            "policy": self.policy,
            "created_at": self.created_at,
            "summary": self.summary,
            "steps": [{**asdict(s), "kind": s.kind.value} for s in self.steps],
            "notes": list(self.notes),
            "stuck": [asdict(s) for s in self.stuck],
            "before": {h: asdict(v) for h, v in self.before.items()},
            "after": {h: asdict(v) for h, v in self.after.items()},
            "params": dict(self.params),
            "metrics": asdict(self.metrics),
        }


def plan_from_dict(d: Mapping[str, Any]) -> Plan:
    return Plan(
        id=d.get("id", ""),
        cluster=d["cluster"],
        kind=d["kind"],
        policy=d["policy"],
        created_at=d["created_at"],
        summary=d["summary"],
        steps=tuple(Step(**{**s, "kind": StepKind(s["kind"])}) for s in d.get("steps", ())),
        notes=tuple(d.get("notes", ())),
        stuck=tuple(Stuck(**s) for s in d.get("stuck", ())),
        before=MappingProxyType({h: HostLoad(**v) for h, v in d.get("before", {}).items()}),
        after=MappingProxyType({h: HostLoad(**v) for h, v in d.get("after", {}).items()}),
        params=MappingProxyType(dict(d.get("params", {}))),
        metrics=PlanMetrics(**d.get("metrics", {})),
    )
