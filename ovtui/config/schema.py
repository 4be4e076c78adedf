"""The shape of ovtui.toml. `extra="forbid"` everywhere: a misspelt key is an error, not ignored."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ovtui.config.secrets import SecretRef

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Seconds = Annotated[float, Field(gt=0, le=86400)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_listen(value: str) -> tuple[str, int]:
    """'127.0.0.1:9177' or '[::1]:9177' -> (host, port); port 0 means 'pick a free one'."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not HOST:PORT (for example 127.0.0.1:9177)")
    host = host.strip("[]")
    if host != "localhost":
        ipaddress.ip_address(host)  # raises ValueError naming the bad address
    return host, int(port)


class EngineSection(_Strict):
    store_dir: Path = Path("/var/lib/ovtui")
    poll_interval_seconds: Seconds = 5.0
    libvirt_call_timeout_seconds: Seconds = 10.0
    connect_backoff_max_seconds: Seconds = 60.0
    shutdown_timeout_seconds: Seconds = 120.0
    migration_timeout_seconds: Seconds = 600.0


class ApiSection(_Strict):
    socket: Path = Path("/run/ovtui/api.sock")
    socket_mode: str = "0660"
    socket_group: str | None = None
    tcp: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @field_validator("socket_mode")
    @classmethod
    def _octal(cls, value: str) -> str:
        try:
            mode = int(value, 8)
        except ValueError:
            raise ValueError(f'{value!r} is not an octal mode such as "0660"') from None
        if mode & ~0o777 or mode & 0o007:
            raise ValueError(f'{value!r} must not grant access to others; use "0660" or "0600"')
        return value

    @field_validator("tcp")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen(value)
        return value

    @model_validator(mode="after")
    def _tls_for_tcp(self) -> ApiSection:
        if self.tcp and not (self.tls_cert and self.tls_key):
            raise ValueError("tcp needs tls_cert and tls_key: the API never listens in clear")
        return self


class ExporterSection(_Strict):
    listen: str | None = "127.0.0.1:9177"

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen(value)
        return value


class AuthSection(_Strict):
    local_users_file: Path | None = Path("/etc/ovtui/local-users.toml")
    session_ttl_minutes: Annotated[int, Field(gt=0, le=10080)] = 480
    session_idle_minutes: Annotated[int, Field(gt=0, le=10080)] = 30


class DataCenterConfig(_Strict):
    name: Name
    description: str = ""


class SchedulingConfig(_Strict):
    policy: Literal["none", "evenly_distributed", "power_saving"] = "none"
    mode: Literal["off", "recommend", "automatic"] = "off"
    params: dict[str, Any] = Field(default_factory=dict)


class ClusterConfig(_Strict):
    name: Name
    datacenter: Name
    cpu_model: Annotated[str, Field(min_length=1)]
    memory_overcommit_percent: Annotated[int, Field(ge=100, le=1000)] = 100
    resiliency: Literal["migrate", "migrate_ha_only", "none"] = "migrate"
    scheduling: SchedulingConfig = SchedulingConfig()


class PowerConfig(_Strict):
    kind: Literal["none", "command"] = "none"
    on: list[str] | None = None
    off: list[str] | None = None
    status: list[str] | None = None
    password: SecretRef | None = None

    @model_validator(mode="after")
    def _commands(self) -> PowerConfig:
        if self.kind == "command" and not (self.on and self.off):
            raise ValueError('kind = "command" needs both on = [...] and off = [...] commands')
        return self


class HostConfig(_Strict):
    name: Name
    cluster: Name
    uri: Annotated[str, Field(pattern=r"^[a-z][a-z0-9+]*://", min_length=4)]
    migration_uri: str | None = None
    cpus: Annotated[int, Field(gt=0, le=4096)] | None = None
    memory_mib: Annotated[int, Field(gt=0)] | None = None
    load: Literal["measured", "synthetic"] = "measured"
    power: PowerConfig = PowerConfig()

    @model_validator(mode="after")
    def _synthetic_only_on_test_driver(self) -> HostConfig:
        if self.load == "synthetic" and not self.uri.startswith("test"):
            raise ValueError(
                'load = "synthetic" is only for test-driver demo hosts (uri test:///...); '
                'use load = "measured" for real hypervisors'
            )
        return self


class Config(_Strict):
    engine: EngineSection = EngineSection()
    api: ApiSection = ApiSection()
    exporter: ExporterSection = ExporterSection()
    auth: AuthSection = AuthSection()
    datacenters: list[DataCenterConfig] = Field(default_factory=list)
    clusters: list[ClusterConfig] = Field(default_factory=list)
    hosts: list[HostConfig] = Field(default_factory=list)
    # Where the file came from, for messages; not a TOML key.
    source: str = Field(default="<memory>", exclude=True)

    def cluster(self, name: str) -> ClusterConfig:
        return next(c for c in self.clusters if c.name == name)

    def datacenter_of(self, cluster: str) -> str:
        return self.cluster(cluster).datacenter
