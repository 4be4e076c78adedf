"""Storage domains against the rest of the config: data center and hosts exist and belong."""

from __future__ import annotations

from ovtui.config.schema import Config


def storage_errors(config: Config) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    dcs = [d.name for d in config.datacenters]
    dc_of_host = {
        h.name: config.datacenter_of(h.cluster)
        for h in config.hosts
        if any(c.name == h.cluster for c in config.clusters)
    }
    seen: dict[str, int] = {}
    places: dict[tuple[str, str], int] = {}  # (host, path) -> domain index
    for i, sd in enumerate(config.storage_domains):
        key = f"storage_domains[{i}]"
        if sd.name in seen:
            errors.append(
                (f"{key}.name", f"{sd.name!r} is already used by storage_domains[{seen[sd.name]}]")
            )
        seen.setdefault(sd.name, i)
        if sd.datacenter not in dcs:
            valid = ", ".join(dcs) if dcs else "none defined; add a [[datacenters]] section"
            errors.append(
                (
                    f"{key}.datacenter",
                    f"{sd.datacenter!r} is not a defined datacenter (valid: {valid})",
                )
            )
            continue
        in_dc = [h for h, dc in dc_of_host.items() if dc == sd.datacenter]
        for j, host in enumerate(sd.hosts):
            if host not in dc_of_host:
                errors.append((f"{key}.hosts[{j}]", f"{host!r} is not a defined host"))
            elif dc_of_host[host] != sd.datacenter:
                errors.append(
                    (
                        f"{key}.hosts[{j}]",
                        f"{host!r} is in data center "
                        f"{dc_of_host[host]!r}, not {sd.datacenter!r} (hosts there: "
                        f"{', '.join(in_dc) or 'none'})",
                    )
                )
            elif host in sd.hosts[:j]:
                errors.append((f"{key}.hosts[{j}]", f"{host!r} is listed twice"))
        if sd.path is not None:
            for host in sd.hosts or in_dc:
                other = places.setdefault((host, str(sd.path)), i)
                if other != i:
                    errors.append(
                        (
                            f"{key}.path",
                            f"{str(sd.path)!r} on {host} is already "
                            f"storage_domains[{other}]: one directory, one domain",
                        )
                    )
                    break
    return errors
