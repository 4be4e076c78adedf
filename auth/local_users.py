"""Local accounts from a root-only TOML file: the break-glass path that works without LDAP."""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auth.passwords import is_password_hash, verify_password
from auth.permissions import ROLES
from auth.principal import Principal


class LocalUsersError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class LocalUser:
    name: str
    password_hash: str
    roles: frozenset[str]


ENTRY_KEYS = ("name", "password_hash", "roles")
_EXAMPLE = '[[users]] tables: name = "admin", password_hash = "scrypt$...", roles = ["SuperUser"]'


def load_local_users(
    path: Path, *, require_private: bool = True, missing_ok: bool = False
) -> dict[str, LocalUser]:
    """Reads and checks the whole file; LocalUsersError names the file, the key and the fix.

    `missing_ok`: a file that does not exist means no local accounts (else it is an error).
    """
    try:
        st = path.stat()
        data = path.read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return {}
        raise LocalUsersError(
            f"{path}: no such file; create it (mode 0600, {_EXAMPLE}; "
            "ovtui hash-password makes the hash)"
        ) from None
    except IsADirectoryError:
        raise LocalUsersError(f"{path}: is a directory, not a local users file") from None
    except OSError as exc:
        raise LocalUsersError(f"{path}: cannot read local users: {exc.strerror}") from None
    if require_private and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise LocalUsersError(
            f"{path}: readable by group or others (mode {stat.S_IMODE(st.st_mode):04o}); "
            f"run: chmod 600 {path}"
        )
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise LocalUsersError(f"{path}: line {line}: not UTF-8; save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise LocalUsersError(f"{path}: not valid TOML: {exc}") from None
    return _users(path, raw)


def _users(path: Path, raw: dict[str, Any]) -> dict[str, LocalUser]:
    for key in raw:
        if key != "users":
            raise LocalUsersError(f"{path}: {key}: unknown key (valid keys: users)")
    entries = raw.get("users", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise LocalUsersError(f"{path}: users: must be {_EXAMPLE}")
    users: dict[str, LocalUser] = {}
    for i, entry in enumerate(entries):
        user = _user(f"{path}: users[{i}]", entry)
        if user.name in users:
            raise LocalUsersError(f"{path}: users[{i}].name: {user.name!r} is already defined")
        users[user.name] = user
    return users


def _user(where: str, entry: dict[str, Any]) -> LocalUser:
    for key in entry:
        if key not in ENTRY_KEYS:
            raise LocalUsersError(
                f"{where}.{key}: unknown key (valid keys: {', '.join(ENTRY_KEYS)})"
            )
    name, pw, roles = entry.get("name"), entry.get("password_hash"), entry.get("roles", [])
    if not name or not pw:
        raise LocalUsersError(f"{where}: needs name and password_hash (ovtui hash-password)")
    if not isinstance(name, str):
        raise LocalUsersError(f'{where}.name: must be a string, such as name = "admin"')
    if not isinstance(pw, str) or not is_password_hash(pw):
        raise LocalUsersError(
            f"{where}.password_hash: not a hash written by `ovtui hash-password` "
            "(scrypt$N$r$p$salt$digest); make one with it"
        )
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise LocalUsersError(
            f'{where}.roles: must be a list of role names, such as roles = ["SuperUser"] '
            f"(got {roles!r})"
        )
    unknown = set(roles) - ROLES.keys()
    if unknown:
        valid = ", ".join(ROLES)
        raise LocalUsersError(f"{where}.roles: unknown {sorted(unknown)} (valid: {valid})")
    return LocalUser(name, pw, frozenset(roles))


class LocalAuthenticator:
    def __init__(self, users: dict[str, LocalUser]) -> None:
        self._users = users

    def authenticate(self, username: str, password: str) -> Principal | None:
        user = self._users.get(username)
        if user is None or not password:
            return None
        if not verify_password(password, user.password_hash):
            return None
        return Principal(name=username, roles=user.roles, source="local")


def write_local_users(path: Path, users: list[LocalUser]) -> None:
    """Writes a users file with mode 0600 (used by the demo and the tests)."""
    lines = []
    for u in users:
        roles = ", ".join(f'"{r}"' for r in sorted(u.roles))
        lines += ["[[users]]", f'name = "{u.name}"', f'password_hash = "{u.password_hash}"']
        lines += [f"roles = [{roles}]", ""]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines))
