"""The shape of ovtui.toml. `extra="forbid"` everywhere: a misspelt key is an error, not ignored."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from auth.grants import Grant, GrantError
from auth.ldap_config import DEFAULT_GROUP_FILTER
from auth.permissions import ROLES
from auth.syslog_sink import parse_target
from ovtui.config.base import Strict as _Strict
from ovtui.config.ha_schema import HaConfig
from ovtui.config.network_schema import MacPoolConfig, NetworkConfig, NetworkingSection
from ovtui.config.ovirt_section import OvirtApiSection
from ovtui.config.power_schema import PowerConfig
from ovtui.config.provision_schema import ProvisionSection
from ovtui.config.secrets import SecretRef
from ovtui.config.storage_schema import StorageDomainConfig

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Seconds = Annotated[float, Field(gt=0, le=86400)]


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
    # Host reads in flight at once, fleet-wide. Unbounded, 500 host threads fight over the GIL
    # and a full refresh takes twice as long (bench/core_figures.py); 16 still hides RPC latency.
    max_parallel_reads: Annotated[int, Field(ge=1, le=1024)] = 16
    # The distributed deployment: the state in PostgreSQL (a libpq DSN, e.g. "host=db1
    # dbname=ovtui user=ovtui passfile=/etc/ovtui/pgpass"); engines on the same database elect
    # one active engine, the others wait as standbys (README "Deployment"). None: TinyDB files.
    postgresql: str | None = None
    standby_poll_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0

    @field_validator("postgresql")
    @classmethod
    def _dsn(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from psycopg import ProgrammingError
        from psycopg.conninfo import conninfo_to_dict

        try:
            params = conninfo_to_dict(value)
        except ProgrammingError as exc:
            raise ValueError(f"not a libpq connection string: {exc}") from None
        if "password" in params:
            raise ValueError(
                "holds a password in clear: put it in a passfile (passfile=/etc/ovtui/pgpass, "
                "mode 0600) or use client certificates (sslcert=, sslkey=)"
            )
        return value


class ApiSection(_Strict):
    socket: Path = Path("/run/ovtui/api.sock")
    socket_mode: str = "0660"
    socket_group: str | None = None
    tcp: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    ovirt: OvirtApiSection = OvirtApiSection()

    @field_validator("socket_mode")
    @classmethod
    def _octal(cls, value: str) -> str:
        try:
            mode = int(value, 8)
        except ValueError:
            raise ValueError(f'{value!r} is not an octal mode such as "0660"') from None
        if mode & ~0o777 or mode & 0o007:
            raise ValueError(f'{value!r} must not grant access to others; use "0660" or "0600"')
        if mode & 0o600 != 0o600:
            raise ValueError(f'{value!r} locks the engine\'s own user out; use "0660" or "0600"')
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
        if not self.tcp and (self.tls_cert or self.tls_key):
            raise ValueError(
                'tls_cert and tls_key serve only the tcp listener: set tcp = "HOST:PORT" '
                "or remove them"
            )
        if self.ovirt.enabled and not self.tcp:
            raise ValueError(
                "ovirt.enabled needs tcp (with TLS): the oVirt SDK cannot use a socket"
            )
        return self


class ExporterSection(_Strict):
    listen: str | None = "127.0.0.1:9177"

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen(value)
        return value


class LdapGroupsConfig(_Strict):
    search_base: str | None = None  # where groups live; None: no group look-up
    membership: Literal["search", "member_of"] = "search"
    search_filter: str = DEFAULT_GROUP_FILTER  # {user_dn} and {username}, both escaped
    nested: Literal["none", "walk", "in_chain"] = "none"  # in_chain: AD 1.2.840.113556.1.4.1941
    max_depth: Annotated[int, Field(ge=1, le=32)] = 8

    @field_validator("search_filter")
    @classmethod
    def _group_filter(cls, value: str) -> str:
        _filter_with(value, "")
        if "{user_dn}" not in value and "{username}" not in value:
            raise ValueError(f"{value!r} must contain {{user_dn}} or {{username}}")
        return value

    @model_validator(mode="after")
    def _base_for_nesting(self) -> LdapGroupsConfig:
        if self.nested != "none" and self.search_base is None:
            raise ValueError(f'nested = "{self.nested}" needs search_base')
        return self


def _filter_with(value: str, placeholder: str) -> str:
    if not (value.startswith("(") and value.endswith(")")) or value.count("(") != value.count(")"):
        raise ValueError(f"{value!r} is not an LDAP filter in parentheses")
    if placeholder and placeholder not in value:
        raise ValueError(f"{value!r} must contain {placeholder}")
    return value


class LdapConfig(_Strict):
    urls: Annotated[list[str], Field(min_length=1)]
    tls: Literal["ldaps", "starttls", "none"] = "ldaps"
    allow_insecure: bool = False  # required for tls = "none": passwords would cross in clear
    ca_file: Path | None = None  # None: the system's trusted CAs
    bind_dn: str | None = None
    bind_password: SecretRef | None = None
    user_dn_template: str | None = None
    user_search_base: str | None = None
    user_search_filter: str = "(uid={username})"
    name_attribute: str = "uid"
    disabled_filter: str | None = None
    groups: LdapGroupsConfig = LdapGroupsConfig()
    connect_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 5.0
    response_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0
    retry_dead_server_after_seconds: Annotated[float, Field(ge=0, le=86400)] = 60.0

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("ldap://", "ldaps://")) or len(url) < 9:
                raise ValueError(f"{url!r} is not ldap://HOST[:PORT] or ldaps://HOST[:PORT]")
        return value

    @field_validator("user_search_filter")
    @classmethod
    def _user_filter(cls, value: str) -> str:
        return _filter_with(value, "{username}")

    @field_validator("disabled_filter")
    @classmethod
    def _disabled_filter(cls, value: str | None) -> str | None:
        return None if value is None else _filter_with(value, "")

    @model_validator(mode="after")
    def _consistent(self) -> LdapConfig:
        if self.tls == "none" and not self.allow_insecure:
            raise ValueError(
                'tls = "none" sends passwords in clear: use "ldaps" or "starttls", or set '
                "allow_insecure = true (a lab only)"
            )
        want = "ldaps://" if self.tls == "ldaps" else "ldap://"
        wrong = [u for u in self.urls if not u.startswith(want)]
        if wrong:
            raise ValueError(f'tls = "{self.tls}" needs {want} URLs, not {", ".join(wrong)}')
        if (self.user_dn_template is None) == (self.user_search_base is None):
            raise ValueError("give exactly one of user_search_base (search, then bind as the "
                             "user) or user_dn_template (bind directly)")  # fmt: skip
        if self.user_dn_template is not None and "{username}" not in self.user_dn_template:
            raise ValueError("user_dn_template must contain {username}")
        if (self.bind_dn is None) != (self.bind_password is None):
            raise ValueError("bind_dn and bind_password go together")
        return self


class GrantConfig(_Strict):
    group: str | None = None  # a group DN
    user: str | None = None
    role: str
    scope: Literal["system", "datacenter", "cluster", "host", "vm"] = "system"
    object: str = ""

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"not a role; use one of {', '.join(ROLES)}")
        return value

    @model_validator(mode="after")
    def _valid(self) -> GrantConfig:
        try:
            Grant(self.role, self.scope, self.object, group=self.group, user=self.user)
        except GrantError as exc:
            raise ValueError(str(exc)) from None
        return self


class ThrottleConfig(_Strict):
    max_failures: Annotated[int, Field(ge=1, le=1000)] = 5
    window_seconds: Annotated[float, Field(gt=0, le=86400)] = 300.0
    lockout_seconds: Annotated[float, Field(ge=0, le=86400)] = 900.0
    max_failures_per_source: Annotated[int, Field(ge=1, le=100000)] = 20


class AuthSection(_Strict):
    local_users_file: Path | None = Path("/etc/ovtui/local-users.toml")
    session_ttl_minutes: Annotated[int, Field(gt=0, le=10080)] = 480
    session_idle_minutes: Annotated[int, Field(gt=0, le=10080)] = 30
    ldap: LdapConfig | None = None
    grants: list[GrantConfig] = Field(default_factory=list)
    throttle: ThrottleConfig = ThrottleConfig()
    audit_syslog: str | None = None  # /dev/log, udp://HOST:PORT or tcp://HOST:PORT

    @field_validator("audit_syslog")
    @classmethod
    def _syslog(cls, value: str | None) -> str | None:
        if value is not None:
            parse_target(value)
        return value

    @property
    def local_users_optional(self) -> bool:
        """The default users file may be absent when a directory signs people in (LDAP only);
        a file named in the config must exist, and so must one when there is no directory."""
        return "local_users_file" not in self.model_fields_set and self.ldap is not None


class DataCenterConfig(_Strict):
    name: Name
    description: str = ""


class SchedulingConfig(_Strict):
    policy: Literal["none", "evenly_distributed", "power_saving"] = "none"
    mode: Literal["off", "recommend", "automatic"] = "off"
    params: dict[str, Any] = Field(default_factory=dict)  # checked in config/policy_params.py
    balance_interval_seconds: Annotated[int, Field(ge=10, le=86400)] = 60
    power_saving_window: str = "22:00-06:00"  # engine local time; "always" for all day
    power_saving_interval_minutes: Annotated[int, Field(ge=1, le=60)] = 5


class ClusterConfig(_Strict):
    name: Name
    datacenter: Name
    cpu_model: Annotated[str, Field(min_length=1)]
    memory_overcommit_percent: Annotated[int, Field(ge=100, le=1000)] = 100
    resiliency: Literal["migrate", "migrate_ha_only", "none"] = "migrate"
    scheduling: SchedulingConfig = SchedulingConfig()
    ha: HaConfig = HaConfig()  # fencing guards and HA restarts (config/ha_schema.py)


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
    networks: list[NetworkConfig] = Field(default_factory=list)  # network_schema.py
    mac_pools: list[MacPoolConfig] = Field(default_factory=list)
    networking: NetworkingSection = NetworkingSection()
    storage_domains: list[StorageDomainConfig] = Field(default_factory=list)  # storage_schema.py
    provision: ProvisionSection = ProvisionSection()  # provision_schema.py
    # Where the file came from, for messages; not a TOML key.
    source: str = Field(default="<memory>", exclude=True)

    def cluster(self, name: str) -> ClusterConfig:
        return next(c for c in self.clusters if c.name == name)

    def datacenter_of(self, cluster: str) -> str:
        return self.cluster(cluster).datacenter
