"""Why a requested migration must not happen, in words an operator can act on (None = allowed)."""

from __future__ import annotations

from ovtui.model import VM, HostState, Snapshot, VmState


def refusal(snap: Snapshot, vm: VM, target_name: str) -> str | None:
    target = snap.host(target_name)
    if target is None:
        names = ", ".join(h.name for h in snap.hosts_in(vm.cluster))
        return f"no host named {target_name!r} (hosts in {vm.cluster}: {names})"
    if vm.state == VmState.MIGRATING:
        return (
            f"{vm.name} is already migrating from {vm.migration_source} to "
            f"{vm.migration_target}; wait until that move ends"
        )
    if target.name == vm.host:
        return f"{vm.name} already runs on {vm.host}"
    # Its flags, or its size and the target's committed memory, are not known yet (start-up
    # or a reconnect: the domain XMLs are being read); a moment later they are.
    if vm.config_pending:
        return f"{vm.name}'s domain XML is still being read (config_pending); retry in a moment"
    if target.vms_config_pending:
        return (
            f"{target.name} still has {target.vms_config_pending} VM(s) whose domain XML is "
            "being read, so its free memory is not known yet; retry in a moment"
        )
    if target.cluster != vm.cluster:
        return (
            f"{vm.name} is in cluster {vm.cluster} and {target.name} in {target.cluster}: "
            "migration across clusters is refused (their CPU models may differ); "
            f"pick a host in {vm.cluster}"
        )
    if vm.pinned:
        return f"{vm.name} is pinned to {vm.host}; unpin it before moving it"
    if not vm.migratable:
        return f"{vm.name} is marked non-migratable"
    if target.state != HostState.UP:
        why = f" ({target.state_reason})" if target.state_reason else ""
        return f"target {target.name} is {target.state.value}{why}; pick a host that is up"
    cluster = snap.cluster(vm.cluster)
    overcommit = cluster.memory_overcommit_percent if cluster else 100
    if vm.active and target.memory_mib:
        limit = target.memory_mib * overcommit // 100
        if target.memory_used_mib + vm.memory_mib > limit:
            return (
                f"{vm.name} needs {vm.memory_mib} MiB but {target.name} has "
                f"{max(0, limit - target.memory_used_mib)} MiB left within the cluster's "
                f"{overcommit}% memory over-commit"
            )
    return None
