"""What the config names must exist on this machine and be usable: checked at engine start.

`load_config` judges the file alone: clients such as `ovtui audit verify` load it too, on
machines (or as users) that hold none of the engine's files and secrets. `ovtui engine` then
runs these checks before it creates anything, so that a missing certificate, an unknown group
or an unreadable secret stops it with exit code 2 and one line per problem naming the file and
the key, the same as a misspelt key, and never half-way through start-up with a traceback.
"""

from __future__ import annotations

import grp
import os
import shutil
import socket
import ssl
import stat
from collections.abc import Callable
from pathlib import Path

from auth.local_users import LocalUsersError, load_local_users
from ovtui.config.load import ConfigError
from ovtui.config.schema import ApiSection, AuthSection, Config, PowerConfig

# sun_path is 108 bytes on Linux, the final NUL included.
MAX_SOCKET_PATH_BYTES = 107
Finding = tuple[str, str]


def check_environment(config: Config) -> None:
    """Raises ConfigError listing every problem found; returns when the engine may start."""
    problems = environment_errors(config)
    if problems:
        raise ConfigError("\n".join(f"{config.source}: {key}: {msg}" for key, msg in problems))


def environment_errors(config: Config) -> list[Finding]:
    errors = _directory("engine.store_dir", config.engine.store_dir)
    errors += _api(config.api)
    errors += _local_users(config.auth)
    if config.auth.ldap is not None and config.auth.ldap.bind_password is not None:
        problem = config.auth.ldap.bind_password.problem()
        errors += [("auth.ldap.bind_password", problem)] if problem else []
    for i, host in enumerate(config.hosts):
        errors += _power(f"hosts[{i}].power", host.power)
    return errors


class _Unreachable(Exception):
    """stat() failed for another reason than absence (a directory on the way not searchable)."""


def _stat(path: Path) -> os.stat_result | None:
    """None when nothing is there; _Unreachable when the path cannot be looked at."""
    try:
        return path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise _Unreachable(
            f"{path}: {exc.strerror}; fix the permissions on the way to it"
        ) from None


def _unreachable_as(key: str, check: Callable[[], list[Finding]]) -> list[Finding]:
    try:
        return check()
    except _Unreachable as exc:
        return [(key, str(exc))]


def _directory(key: str, path: Path) -> list[Finding]:
    """`path` is a writable directory, or one the engine can create (it does, at start)."""
    return _unreachable_as(key, lambda: _directory_problems(key, path))


def _directory_problems(key: str, path: Path) -> list[Finding]:
    st = _stat(path)
    if st is not None:
        if not stat.S_ISDIR(st.st_mode):
            return [(key, f"{path} exists and is not a directory; point it at a directory")]
        if not os.access(path, os.W_OK | os.X_OK):
            return [(key, f"{path} is not writable by this user; fix its owner or mode")]
        return []
    parent = path.parent
    while _stat(parent) is None and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return [(key, f"{path} cannot be created: {parent} is not a directory")]
    if not os.access(parent, os.W_OK | os.X_OK):
        return [(key, f"{path} cannot be created: {parent} is not writable by this user")]
    return []


def unix_socket_problem(path: Path, *, probe: bool = True) -> str | None:
    """Why the engine may not bind `path`: too long, not a socket, or (`probe`) served by a
    live process. A socket left by a killed engine (nobody answers) is fine: it is replaced.
    """
    size = len(os.fsencode(path))
    if size > MAX_SOCKET_PATH_BYTES:
        return (
            f"{path} is {size} bytes; a Unix socket path may have at most "
            f"{MAX_SOCKET_PATH_BYTES} (108 with the final NUL): choose a shorter path"
        )
    try:
        st = path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return f"{path}: {exc.strerror}; fix the permissions on the way to it"
    if not stat.S_ISSOCK(st.st_mode):
        return f"{path} exists and is not a socket; remove it or choose another path"
    if not probe:
        return None
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(2)
    try:
        client.connect(str(path))
    except ConnectionRefusedError:
        return None  # nobody listens: left by an engine that was killed
    except TimeoutError:
        pass  # someone listens and does not accept yet: served all the same
    except OSError as exc:
        return f"{path} cannot be checked ({exc.strerror}); remove it or choose another path"
    finally:
        client.close()
    return (
        f"{path} is served by a running process (another engine?); stop it or choose another path"
    )


def _api(api: ApiSection) -> list[Finding]:
    errors = _directory("api.socket", api.socket.parent)
    # Whether another engine serves it is asked when binding, after the state directory's lock
    # (whose message about a second engine on the same state is the more precise one).
    problem = unix_socket_problem(api.socket, probe=False)
    errors += [("api.socket", problem)] if problem else []
    if api.socket_group is not None:
        problem = _group_problem(api.socket_group)
        errors += [("api.socket_group", problem)] if problem else []
    if api.tcp and api.tls_cert and api.tls_key:
        errors += _tls(api.tls_cert, api.tls_key)
    return errors


def _group_problem(group: str) -> str | None:
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        return f"no group {group!r} on this machine; create it (groupadd {group}) or remove the key"
    if os.geteuid() != 0 and gid not in (os.getegid(), *os.getgroups()):
        return f"the engine's user is not in group {group!r} and cannot give it the socket"
    return None


def _readable(path: Path, what: str) -> str | None:
    try:
        st = _stat(path)
    except _Unreachable as exc:
        return str(exc)
    if st is None:
        return f"{path}: no such file; give the path of the {what}"
    if not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file; give the path of the {what}"
    if not os.access(path, os.R_OK):
        return f"{path} is not readable by this user; fix its owner or mode"
    return None


def _pem(path: Path, marker: str, fix: str) -> str | None:
    """None when the file holds a PEM block `-----BEGIN ...{marker}-----`."""
    try:
        text = path.read_bytes().decode("ascii", "replace")
    except OSError as exc:
        return f"{path}: cannot read: {exc.strerror}"
    begins = [line for line in text.splitlines() if line.startswith("-----BEGIN ")]
    if not any(line.rstrip().endswith(f"{marker}-----") for line in begins):
        return f"{path} holds no PEM {marker.lower()} (-----BEGIN ...{marker}-----); {fix}"
    return None


def _tls(cert: Path, key: Path) -> list[Finding]:
    cert_problem = _readable(cert, "PEM certificate") or _pem(
        cert, "CERTIFICATE", f"convert a DER one: openssl x509 -in {cert} -out CERT.pem"
    )
    key_problem = _readable(key, "PEM private key") or _pem(
        key, "PRIVATE KEY", "give the key of tls_cert in PEM"
    )
    if key_problem is None:
        mode = key.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            key_problem = (
                f"{key} is readable by group or others (mode {stat.S_IMODE(mode):04o}); "
                f"run: chmod 600 {key}"
            )
        elif "ENCRYPTED" in key.read_bytes().decode("ascii", "replace"):
            key_problem = (
                f"{key} is encrypted and the engine cannot ask for its passphrase; write it "
                f"decrypted: openssl pkey -in {key} -out KEY (then chmod 600 KEY)"
            )
    if cert_problem is None and key_problem is None:
        key_problem = _pair_problem(cert, key)
    found = [("api.tls_cert", cert_problem), ("api.tls_key", key_problem)]
    return [(k, p) for k, p in found if p]


def _pair_problem(cert: Path, key: Path) -> str | None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)

    def no_passphrase() -> str:
        raise ValueError("encrypted")  # never prompt on the terminal

    try:
        context.load_cert_chain(str(cert), str(key), password=no_passphrase)
    except (ssl.SSLError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        return f"{key} cannot serve {cert}: {reason}; give the key that belongs to tls_cert"
    return None


def _local_users(auth: AuthSection) -> list[Finding]:
    path = auth.local_users_file
    if path is None:
        return []
    try:
        missing = _stat(path) is None
    except _Unreachable as exc:
        return [("auth.local_users_file", str(exc))]
    if not auth.local_users_optional and missing:
        if "local_users_file" in auth.model_fields_set:
            fix = "create it (ovtui hash-password makes the hash) or remove the key"
        else:
            fix = (
                "this is the default and there is no [auth.ldap], so nobody could sign in: "
                "create it (ovtui hash-password makes the hash) or configure [auth.ldap]"
            )
        return [("auth.local_users_file", f"{path}: no such file; {fix}")]
    try:
        load_local_users(path, missing_ok=auth.local_users_optional)
    except LocalUsersError as exc:
        return [("auth.local_users_file", str(exc))]
    return []


def _power(key: str, power: PowerConfig) -> list[Finding]:
    errors: list[Finding] = []
    for action in ("on", "off", "status"):
        argv: list[str] | None = getattr(power, action)
        if argv and shutil.which(argv[0]) is None:
            errors.append(
                (
                    f"{key}.{action}[0]",
                    f"{argv[0]!r} is not an executable file (nor a command on PATH); "
                    "give the command's full path",
                )
            )
    if power.password is not None:
        problem = power.password.problem()
        errors += [(f"{key}.password", problem)] if problem else []
    return errors
