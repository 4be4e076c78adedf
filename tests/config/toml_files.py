"""Writing ovtui.toml variants for the config tests: a working fleet, then one thing wrong."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auth.local_users import LocalUser, write_local_users
from auth.passwords import hash_password
from ovtui.testdriver_fleet import synthetic_spec, write_fleet


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


def _is_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def dump_toml(data: Mapping[str, Any], prefix: str = "") -> str:
    """Enough TOML for ovtui.toml: tables, arrays of tables, inline tables below them."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items()
             if not isinstance(v, Mapping) and not _is_tables(v)]  # fmt: skip
    out = "\n".join(lines) + "\n" if lines else ""
    for key, value in data.items():
        name = f"{prefix}{_key(key)}"
        if isinstance(value, Mapping):
            out += f"\n[{name}]\n" + dump_toml(value, f"{name}.")
        elif _is_tables(value):
            for item in value:
                out += f"\n[[{name}]]\n" + dump_toml(item, f"{name}.")
    return out


def password_hash() -> str:
    return hash_password("pw", n=2**4)  # cheap: these tests never sign in


def working_config(root: Path) -> dict[str, Any]:
    """A two-host test-driver fleet that starts as it is, and its users file (mode 0600)."""
    path = write_fleet(synthetic_spec(2, 1, clusters=1), root)
    users = root / "local-users.toml"
    write_local_users(users, [LocalUser("admin", password_hash(), frozenset({"SuperUser"}))])
    raw = tomllib.loads(path.read_text())
    raw["auth"] = {"local_users_file": str(users)}
    return raw


def write_config(root: Path, raw: Mapping[str, Any], name: str = "ovtui.toml") -> Path:
    path = root / name
    path.write_text(dump_toml(raw))
    return path


def private_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path
