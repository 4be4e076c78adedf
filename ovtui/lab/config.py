"""The ovtui configuration for a lab, in the layout of appliance/ovtui.example.toml.

The engine's store and API socket live under the lab root, so that `lab down` takes them along.
Power commands point back at this lab's `fail`/`heal`, so power saving can switch lab hosts.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from auth.local_users import LocalUser, write_local_users
from auth.passwords import hash_password
from ovtui.lab.state import HostState

DATACENTER = "lab"
CLUSTER = "lab"


@dataclass(frozen=True)
class ConfigOptions:
    exporter_listen: str = "127.0.0.1:9177"
    host_memory_mib: int = 4096  # lab hosts share one machine: capacity comes from here
    host_cpus: int = os.cpu_count() or 1


def _s(value: str) -> str:
    """A TOML basic string (JSON's escapes are a subset TOML accepts)."""
    return json.dumps(value)


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_s(v) for v in values) + "]"


def _lab_command(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "ovtui.lab", "--root", str(root), *args]


def render(
    root: Path,
    hosts: Sequence[HostState],
    cpu_model: str,
    opts: ConfigOptions,
    storage: Sequence[str] = (),
) -> str:
    """`storage`: the [[storage_domains]] lines (ovtui.lab.storage.domains_toml)."""
    lines = [
        f"# ovtui configuration for the lab in {root}, written by `ovtui lab up`.",
        "# It is rewritten by every `lab up`; copy it before editing.",
        "# Sign in as `admin` with the password in admin.password (written once, mode 0600).",
        "",
        "[engine]",
        f"store_dir = {_s(str(root / 'engine'))}",
        "poll_interval_seconds = 2.0",
        "libvirt_call_timeout_seconds = 5.0",
        "connect_backoff_max_seconds = 10.0",
        "shutdown_timeout_seconds = 60.0",
        "migration_timeout_seconds = 120.0",
        "",
        "[api]",
        f"socket = {_s(str(root / 'run' / 'api.sock'))}",
        'socket_mode = "0660"',
        "",
        "[exporter]",
        f"listen = {_s(opts.exporter_listen)}",
        "",
        "[auth]",
        f"local_users_file = {_s(str(root / 'local-users.toml'))}",
        "session_ttl_minutes = 480",
        "session_idle_minutes = 30",
        "",
        "[[datacenters]]",
        f"name = {_s(DATACENTER)}",
        'description = "ovtui lab: libvirtd hosts and QEMU guests on one machine"',
        "",
        "[[clusters]]",
        f"name = {_s(CLUSTER)}",
        f"datacenter = {_s(DATACENTER)}",
        f"cpu_model = {_s(cpu_model)}",
        "memory_overcommit_percent = 150",
        'resiliency = "migrate"',
        "",
        "[clusters.scheduling]",
        'policy = "evenly_distributed"',
        'mode = "recommend"',
        "params = { HighUtilization = 80, CpuOverCommitDurationMinutes = 2 }",
    ]
    for host in sorted(hosts, key=lambda h: h.index):
        lines += [
            "",
            "[[hosts]]",
            f"name = {_s(host.name)}",
            f"cluster = {_s(CLUSTER)}",
            f"uri = {_s(host.uri)}",
            f"migration_uri = {_s(host.migration_uri)}",
            f"cpus = {opts.host_cpus}",
            f"memory_mib = {opts.host_memory_mib}",
            'load = "measured"',
            "",
            "[hosts.power]",
            'kind = "command"',
            f"on = {_list(_lab_command(root, 'heal', host.name))}",
            f"off = {_list(_lab_command(root, 'fail', host.name))}",
            f"status = {_list(_lab_command(root, 'status', host.name))}",
        ]
    return "\n".join([*lines, *storage]) + "\n"


def write(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def ensure_admin(root: Path) -> None:
    """The config names local-users.toml: without it `ovtui engine` refuses to start. Written once
    (an operator's own file is never replaced): `admin`, SuperUser, a random password kept in
    admin.password (0600) beside it."""
    users = root / "local-users.toml"
    if users.exists():
        return
    password = secrets.token_urlsafe(12)
    fd = os.open(root / "admin.password", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    write_local_users(
        users, [LocalUser("admin", hash_password(password), frozenset({"SuperUser"}))]
    )
