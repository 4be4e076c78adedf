"""MAC addresses for new NICs: the data center's pool, never one any VM of the fleet has.

"Any VM" includes VMs defined outside ovtui: the fleet reads every domain's NICs, so what is in
use is the snapshot's NICs. Two VMs with one address (made outside ovtui, or copied) are a clash
that is reported, never a reason to hand out the address again.
"""

from __future__ import annotations

from collections.abc import Iterable

from ovtui.config.network_schema import DEFAULT_MAC_RANGE, int_to_mac, mac_to_int, parse_mac_range
from ovtui.config.schema import Config
from ovtui.model import Snapshot


def pool_ranges(config: Config, datacenter: str) -> list[tuple[int, int]]:
    pool = next((p for p in config.mac_pools if p.datacenter == datacenter), None)
    return [parse_mac_range(r) for r in (pool.ranges if pool else [DEFAULT_MAC_RANGE])]


def pool_texts(config: Config, datacenter: str) -> list[str]:
    pool = next((p for p in config.mac_pools if p.datacenter == datacenter), None)
    return list(pool.ranges) if pool else [DEFAULT_MAC_RANGE]


def macs_in_use(snap: Snapshot) -> dict[str, list[str]]:
    """MAC (lower case) -> the VMs that have it (a VM listed twice mid-migration counts once)."""
    owners: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for vm in snap.vms:
        for nic in vm.devices.nics if vm.devices else ():
            mac = nic.mac.lower()
            if mac and (vm.uuid, mac) not in seen:
                seen.add((vm.uuid, mac))
                owners.setdefault(mac, []).append(vm.name)
    return {mac: sorted(names) for mac, names in owners.items()}


def clashes(snap: Snapshot) -> dict[str, list[str]]:
    return {mac: vms for mac, vms in macs_in_use(snap).items() if len(vms) > 1}


def unread(snap: Snapshot) -> list[str]:
    """VMs whose NICs have not been read yet: their addresses are unknown."""
    return [vm.name for vm in snap.vms if vm.devices is None]


def allocate(ranges: Iterable[tuple[int, int]], used: Iterable[str]) -> str | None:
    """The lowest free address of the pool; None when the pool is exhausted."""
    taken = {mac_to_int(m) for m in used if len(m) == 17}
    for lo, hi in ranges:
        for value in range(lo, hi + 1):
            if value not in taken:
                return int_to_mac(value)
    return None


def in_pool(ranges: Iterable[tuple[int, int]], mac: str) -> bool:
    value = mac_to_int(mac)
    return any(lo <= value <= hi for lo, hi in ranges)
