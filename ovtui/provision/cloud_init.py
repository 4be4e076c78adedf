"""cloud-init NoCloud seed contents: meta-data (instance id, hostname) and user-data (the
hostname and users with SSH keys as #cloud-config, or the operator's raw user-data). Pure.

Values are written as JSON strings, which YAML reads as the same strings, so no hostname,
user name or key can break out of its line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_KEY = re.compile(r"(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+( .*)?")


@dataclass(frozen=True, slots=True)
class CloudUser:
    name: str
    ssh_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CloudInit:
    hostname: str
    users: tuple[CloudUser, ...] = ()
    user_data: str | None = None  # raw: given to the guest as it is
    attach: Literal["disk", "cdrom"] = "disk"
    storage: str | None = None  # the seed's storage domain (default: the VM's first disk's)


def problem(ci: CloudInit) -> str | None:
    host = ci.hostname.lower()
    if len(host) > 253 or not all(_LABEL.fullmatch(p) for p in host.split(".")):
        return (
            f"cloud-init hostname {ci.hostname!r} is not a host name: labels of letters, digits "
            "and '-' (not at either end), up to 63 characters each, joined by '.'"
        )
    if ci.users and ci.user_data is not None:
        return "cloud-init: give users (with SSH keys) or raw user_data, not both"
    for u in ci.users:
        if not _USER.fullmatch(u.name):
            return f"cloud-init user {u.name!r}: lower-case letters, digits, '_' and '-'"
        for key in u.ssh_keys:
            if "\n" in key or not _KEY.fullmatch(key.strip()):
                return f"cloud-init user {u.name}: {key[:40]!r}... is not one OpenSSH public key"
    if ci.user_data is not None and len(ci.user_data.encode()) > 1 << 20:
        return "cloud-init user_data is larger than 1 MiB"
    return None


def meta_data(ci: CloudInit, instance_id: str) -> str:
    return f"instance-id: {json.dumps(instance_id)}\nlocal-hostname: {json.dumps(ci.hostname)}\n"


def user_data(ci: CloudInit) -> str:
    if ci.user_data is not None:
        return ci.user_data
    lines = ["#cloud-config", f"hostname: {json.dumps(ci.hostname)}"]
    if ci.users:
        lines.append("users:")
        for u in ci.users:
            lines.append(f"  - name: {json.dumps(u.name)}")
            if u.ssh_keys:
                lines.append("    ssh_authorized_keys:")
                lines += [f"      - {json.dumps(k.strip())}" for k in u.ssh_keys]
    return "\n".join(lines) + "\n"
