"""Turning a planner's steps into a Plan: predicted loads after, quality figures, a summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from policies.history import Observations
from policies.params import Params
from policies.plan import HostLoad, Plan, PlanMetrics, Step, StepKind, Stuck
from policies.state import ClusterState, cpu_stddev, pct


def _over(loads: Mapping[str, HostLoad], high: float) -> int:
    return sum(1 for v in loads.values() if v.in_service and v.cpu is not None and v.cpu > high)


def _in_service(loads: Mapping[str, HostLoad]) -> int:
    return sum(1 for v in loads.values() if v.in_service)


def finish(
    state: ClusterState,
    kind: str,
    before: Mapping[str, HostLoad],
    steps: Sequence[Step],
    notes: Sequence[str],
    stuck: Sequence[Stuck],
    params: Params,
    obs: Observations,
) -> Plan:
    after = state.loads()
    migrations = [s for s in steps if s.kind == StepKind.MIGRATE]
    metrics = PlanMetrics(
        hosts_in_service_before=_in_service(before),
        hosts_in_service_after=_in_service(after),
        hosts_over_before=_over(before, params.high),
        hosts_over_after=_over(after, params.high),
        cpu_stddev_before=cpu_stddev(before),
        cpu_stddev_after=cpu_stddev(after),
        migrations=len(migrations),
        memory_moved_mib=sum(s.memory_mib for s in migrations),
        hosts_released=sum(1 for s in steps if s.kind == StepKind.MAINTENANCE),
        hosts_woken=sum(1 for s in steps if s.kind == StepKind.ACTIVATE),
    )
    cluster = state.cluster
    return Plan(
        cluster=cluster.name,
        kind=kind,
        policy=cluster.scheduling_policy,
        created_at=obs.now,
        summary=summarize(cluster.name, steps, metrics, params),
        steps=tuple(steps),
        notes=tuple(notes),
        stuck=tuple(stuck),
        before=before,
        after=after,
        params=params.describe(),
        metrics=metrics,
    )


def summarize(cluster: str, steps: Sequence[Step], m: PlanMetrics, params: Params) -> str:
    if not steps:
        return f"{cluster}: nothing to do"
    parts = [f"{m.migrations} migration{'s' if m.migrations != 1 else ''}"]
    if m.hosts_released:
        parts.append(f"{m.hosts_released} host{'s' if m.hosts_released != 1 else ''} released")
    if m.hosts_woken:
        parts.append(f"{m.hosts_woken} host{'s' if m.hosts_woken != 1 else ''} back in service")
    parts.append(f"hosts above {pct(params.high)}: {m.hosts_over_before} → {m.hosts_over_after}")
    parts.append(f"CPU std dev {pct(m.cpu_stddev_before)} → {pct(m.cpu_stddev_after)}")
    parts.append(f"hosts in service {m.hosts_in_service_before} → {m.hosts_in_service_after}")
    return f"{cluster}: " + "; ".join(parts)
