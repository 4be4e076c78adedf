"""Checks on networks and MAC pools that span sections. Each finding names its key."""

from __future__ import annotations

from ovtui.config.network_schema import parse_mac_range
from ovtui.config.schema import Config


def network_errors(config: Config) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    dcs = [d.name for d in config.datacenters]
    dc_of = {c.name: c.datacenter for c in config.clusters}
    seen_name: dict[tuple[str, str], int] = {}
    seen_bridge: dict[tuple[str, str], int] = {}
    for i, net in enumerate(config.networks):
        key = f"networks[{i}]"
        if net.datacenter not in dcs:
            valid = ", ".join(dcs) or "none defined; add a [[datacenters]] section"
            errors.append(
                (
                    f"{key}.datacenter",
                    f"{net.datacenter!r} is not a defined datacenter (valid: {valid})",
                )
            )
        first = seen_name.setdefault((net.datacenter, net.name), i)
        if first != i:
            errors.append(
                (f"{key}.name", f"{net.name!r} is already networks[{first}] in {net.datacenter}")
            )
        # A bridge is one device per host: two networks on it would be one network twice.
        first = seen_bridge.setdefault((net.datacenter, net.bridge), i)
        if first != i:
            errors.append(
                (f"{key}.bridge", f"{net.bridge!r} is already the bridge of networks[{first}]")
            )
        for cluster in net.clusters:
            if cluster not in dc_of:
                valid = ", ".join(dc_of) or "none defined"
                errors.append(
                    (f"{key}.clusters.{cluster}", f"not a defined cluster (valid: {valid})")
                )
            elif dc_of[cluster] != net.datacenter:
                errors.append(
                    (
                        f"{key}.clusters.{cluster}",
                        f"cluster {cluster!r} is in datacenter {dc_of[cluster]!r}, the network "
                        f"in {net.datacenter!r}: attach it to clusters of its own datacenter",
                    )
                )
        if net.bond is not None and net.bond.name == net.bridge:
            errors.append((f"{key}.bond.name", "the bond and the bridge need different names"))
    errors += _pool_errors(config, dcs)
    return errors


def _pool_errors(config: Config, dcs: list[str]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    owner: dict[str, int] = {}
    spans: list[tuple[int, int, int, str]] = []
    for i, pool in enumerate(config.mac_pools):
        if pool.datacenter not in dcs:
            valid = ", ".join(dcs) or "none defined"
            errors.append(
                (
                    f"mac_pools[{i}].datacenter",
                    f"{pool.datacenter!r} is not a defined datacenter (valid: {valid})",
                )
            )
        first = owner.setdefault(pool.datacenter, i)
        if first != i:
            errors.append(
                (
                    f"mac_pools[{i}].datacenter",
                    f"{pool.datacenter!r} already has mac_pools[{first}]: one pool per "
                    "datacenter; give that one several ranges",
                )
            )
        for text in pool.ranges:
            lo, hi = parse_mac_range(text)
            for j, olo, ohi, other in spans:
                if j != i and lo <= ohi and olo <= hi:
                    errors.append(
                        (
                            f"mac_pools[{i}].ranges",
                            f"{text!r} overlaps {other!r} of mac_pools[{j}]: two datacenters "
                            "would hand out the same addresses",
                        )
                    )
            spans.append((i, lo, hi, text))
    return errors
