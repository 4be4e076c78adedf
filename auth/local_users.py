"""Local accounts from a root-only TOML file: the break-glass path that works without LDAP."""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

from auth.passwords import verify_password
from auth.permissions import ROLES
from auth.principal import Principal


class LocalUsersError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class LocalUser:
    name: str
    password_hash: str
    roles: frozenset[str]


def load_local_users(path: Path, *, require_private: bool = True) -> dict[str, LocalUser]:
    try:
        st = path.stat()
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LocalUsersError(f"{path}: cannot read local users: {exc}") from None
    if require_private and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise LocalUsersError(
            f"{path}: readable by group or others (mode {stat.S_IMODE(st.st_mode):04o}); "
            f"run: chmod 600 {path}"
        )
    users: dict[str, LocalUser] = {}
    for i, entry in enumerate(raw.get("users", [])):
        where = f"{path}: users[{i}]"
        name, pw, roles = entry.get("name"), entry.get("password_hash"), entry.get("roles", [])
        if not name or not pw:
            raise LocalUsersError(f"{where}: needs name and password_hash (ovtui hash-password)")
        unknown = set(roles) - ROLES.keys()
        if unknown:
            valid = ", ".join(ROLES)
            raise LocalUsersError(f"{where}.roles: unknown {sorted(unknown)} (valid: {valid})")
        users[name] = LocalUser(name, pw, frozenset(roles))
    return users


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
