"""Which hosts must see which storage domain (from the config alone)."""

from __future__ import annotations

from ovtui.config.schema import Config
from ovtui.config.storage_schema import StorageDomainConfig


def hosts_of(config: Config, sd: StorageDomainConfig) -> tuple[str, ...]:
    """The named hosts, else (shared types) every host of the domain's data center."""
    if sd.hosts:
        return tuple(sd.hosts)
    return tuple(h.name for h in config.hosts if config.datacenter_of(h.cluster) == sd.datacenter)


def domains_of_host(config: Config, host: str) -> tuple[StorageDomainConfig, ...]:
    return tuple(sd for sd in config.storage_domains if host in hosts_of(config, sd))


def find_domain(config: Config, name: str) -> StorageDomainConfig | None:
    return next((sd for sd in config.storage_domains if sd.name == name), None)
