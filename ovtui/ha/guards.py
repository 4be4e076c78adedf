"""oVirt's guards against fencing: each returns why fencing must wait, or None."""

from __future__ import annotations

from ovtui.ha.model import UP_STATES, Guards, HostObs, HostRecord, World


def unreachable_share(world: World, cluster: str) -> tuple[int, int]:
    """(non-responsive hosts, hosts) of a cluster; maintenance and powered-off hosts count
    as neither, like oVirt's "hosts with broken connectivity" ratio."""
    hosts = [h for h in world.hosts.values() if h.cluster == cluster]
    counted = [h for h in hosts if h.state not in ("maintenance", "down")]
    lost = [h for h in counted if h.state not in UP_STATES]
    return len(lost), len(counted)


def fence_hold(world: World, host: HostObs, rec: HostRecord, g: Guards) -> str | None:
    """Why `host` may not be power-fenced now (None: it may)."""
    age = world.now - world.engine_started
    if age < g.disable_fence_at_startup_seconds:
        return (
            f"engine started {age:.0f} s ago (< DisableFenceAtStartupInSec "
            f"{g.disable_fence_at_startup_seconds:g} s)"
        )
    lost, total = unreachable_share(world, host.cluster)
    if total and lost * 100 >= g.skip_fencing_unreachable_percent * total:
        return (
            f"{lost} of {total} hosts of cluster {host.cluster} are non-responsive "
            f"(>= {g.skip_fencing_unreachable_percent}%): the engine's own connectivity is "
            "the likely fault"
        )
    if rec.last_power_op is not None:
        quiet = world.now - rec.last_power_op
        if quiet < g.fence_quiet_time_seconds:
            return (
                f"last power operation {quiet:.0f} s ago (< "
                f"FenceQuietTimeBetweenOperationsInSec {g.fence_quiet_time_seconds:g} s)"
            )
    return None


def never_fenced(host: HostObs, g: Guards) -> str | None:
    """Why `host` is never fenced automatically: it waits for an operator."""
    if not g.fencing_enabled:
        return f"fencing is disabled in cluster {host.cluster}"
    if not host.power_managed:
        return "it has no power management"
    return None
