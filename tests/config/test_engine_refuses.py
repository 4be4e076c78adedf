"""`ovtui --config F engine` refuses every config mistake with exit code 2, one line per problem
naming the file, the key and the fix, and never a traceback; nothing is started or created.

Each case was found by starting the real engine with a broken config (issue 10): some crashed
with a traceback, others started although nobody could use them (no accounts, a grant that would
never apply, a secret that could not be read when first needed).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.config.toml_files import password_hash, private_file, working_config, write_config

ROOT = Path(__file__).resolve().parents[2]
HEADER = "ovtui: configuration error:"
# Long enough for an engine to start on a loaded machine when it should not have: on the old code
# such a case fails here (it keeps running) instead of exiting 2.
STILL_RUNNING_AFTER = 30.0

Edit = Callable[[dict[str, Any], Path], None]


@pytest.fixture
def root() -> Iterator[Path]:
    # Short: the API socket path must stay under 108 bytes.
    path = Path(tempfile.mkdtemp(prefix="ovt-", dir="/tmp"))
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=False)


def _engine(config: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ovtui.cli.main", "--config", str(config), "engine"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=STILL_RUNNING_AFTER)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)  # our own child's session, by its PID
        out, err = proc.communicate(timeout=30)
        pytest.fail(f"the engine started with this config instead of refusing it:\n{err[-2000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def refused(config: Path, *, created: Path | None = None) -> list[str]:
    """Runs the engine on `config`; returns the problem lines (file prefix removed)."""
    proc = _engine(config)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if not ln.startswith("I/O warning")]
    assert lines[0] == HEADER, proc.stderr
    assert all(ln.startswith(f"{config}: ") for ln in lines[1:]), lines
    if created is not None:
        assert not created.exists(), f"{created} was created by an engine that did not start"
    return [ln.removeprefix(f"{config}: ") for ln in lines[1:]]


def _refused_with(root: Path, edit: Edit) -> list[str]:
    raw = working_config(root)
    edit(raw, root)
    store = Path(raw["engine"]["store_dir"])
    return refused(write_config(root, raw), created=None if store.exists() else store)


def _one(problems: list[str], key: str) -> str:
    found = [p for p in problems if p.startswith(f"{key}: ")]
    assert len(found) == 1, problems
    return found[0]


# -- [api] ----------------------------------------------------------------------------------------
def test_tcp_with_missing_certificate_and_key_files(root: Path) -> None:
    def edit(raw: dict[str, Any], root: Path) -> None:
        raw["api"].update(tcp="127.0.0.1:0", tls_cert=str(root / "api.crt"),
                          tls_key=str(root / "api.key"))  # fmt: skip

    problems = _refused_with(root, edit)
    assert _one(problems, "api.tls_cert") == (
        f"api.tls_cert: {root}/api.crt: no such file; give the path of the PEM certificate"
    )
    assert _one(problems, "api.tls_key").endswith("give the path of the PEM private key")


def test_unknown_socket_group(root: Path) -> None:
    problems = _refused_with(root, lambda raw, _: raw["api"].update(socket_group="no-such-grp"))
    assert problems == [
        "api.socket_group: no group 'no-such-grp' on this machine; create it "
        "(groupadd no-such-grp) or remove the key"
    ]


def test_socket_path_longer_than_the_kernel_allows(root: Path) -> None:
    long = root / ("s" * 100) / "api.sock"  # > 107 bytes, sun_path's limit without its NUL

    problems = _refused_with(root, lambda raw, _: raw["api"].update(socket=str(long)))
    (problem,) = problems
    assert problem.startswith(f"api.socket: {long} is {len(str(long))} bytes; ")
    assert "at most 107" in problem and "choose a shorter path" in problem
    assert not long.parent.exists()


def test_a_busy_tcp_port_is_named(root: Path) -> None:
    cert, key = root / "api.crt", root / "api.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        raw = working_config(root)
        raw["api"].update(tcp=f"127.0.0.1:{port}", tls_cert=str(cert), tls_key=str(key))
        problems = refused(write_config(root, raw))
    assert problems == [
        f"api.tcp: cannot listen on 127.0.0.1:{port}: Address already in use; stop what holds "
        "it or set api.tcp to a free address"
    ]
    assert not Path(raw["api"]["socket"]).exists()  # the Unix socket was taken back


# -- [engine] and the file itself -----------------------------------------------------------------
def test_store_dir_pointing_at_a_file(root: Path) -> None:
    (root / "state").write_text("not a directory\n")

    problems = _refused_with(root, lambda raw, r: raw["engine"].update(store_dir=str(r / "state")))
    assert problems == [
        f"engine.store_dir: {root}/state exists and is not a directory; point it at a directory"
    ]


def test_a_byte_that_is_not_utf8(root: Path) -> None:
    config = write_config(root, working_config(root))
    text = config.read_bytes()
    line = text.count(b"\n", 0, text.index(b'description = "')) + 1
    config.write_bytes(text.replace(b'description = "', b'description = "caf\xe9 ', 1))
    (problem,) = refused(config)
    assert problem == (
        f"line {line}, column 19: byte 0xe9 is not UTF-8; save the file as UTF-8 "
        "(TOML files are UTF-8)"
    )


# -- [auth] ---------------------------------------------------------------------------------------
def test_users_file_whose_users_is_a_string(root: Path) -> None:
    users = private_file(root / "users.toml", 'users = "admin"\n')

    problems = _refused_with(root, lambda raw, _: raw["auth"].update(local_users_file=str(users)))
    (problem,) = problems
    assert problem.startswith(f"auth.local_users_file: {users}: users: must be [[users]] tables")


def test_roles_given_as_a_string_are_not_spelt_out(root: Path) -> None:
    users = private_file(
        root / "users.toml",
        f'[[users]]\nname = "admin"\npassword_hash = "{password_hash()}"\nroles = "SuperUser"\n',
    )

    problems = _refused_with(root, lambda raw, _: raw["auth"].update(local_users_file=str(users)))
    assert problems == [
        f"auth.local_users_file: {users}: users[0].roles: must be a list of role names, such as "
        "roles = [\"SuperUser\"] (got 'SuperUser')"
    ]


def test_a_grant_on_an_unknown_cluster(root: Path) -> None:
    def edit(raw: dict[str, Any], _: Path) -> None:
        raw["auth"]["grants"] = [
            {"user": "erin", "role": "ClusterAdmin", "scope": "cluster", "object": "prod-z"}
        ]

    assert _refused_with(root, edit) == [
        "auth.grants[0].object: 'prod-z' is not a defined cluster (valid: cluster-01)"
    ]


def test_a_missing_local_users_file(root: Path) -> None:
    missing = root / "nobody.toml"

    problems = _refused_with(root, lambda raw, _: raw["auth"].update(local_users_file=str(missing)))
    assert problems == [
        f"auth.local_users_file: {missing}: no such file; create it (ovtui hash-password makes "
        "the hash) or remove the key"
    ]


def _ldap(password_file: Path) -> dict[str, Any]:
    return {
        "urls": ["ldap://127.0.0.1:1"],
        "tls": "none",
        "allow_insecure": True,
        "bind_dn": "cn=svc,dc=example,dc=org",
        "bind_password": {"file": str(password_file)},
        "user_search_base": "dc=example,dc=org",
    }


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_a_bind_password_file_that_cannot_be_read(root: Path, kind: str) -> None:
    secret = root / "ldap.secret"
    if kind == "directory":
        secret.mkdir()

    problems = _refused_with(root, lambda raw, _: raw["auth"].update(ldap=_ldap(secret)))
    (problem,) = problems
    expected = {
        "missing": f"secret file {secret}: No such file or directory; create it (mode 0600) "
        "or fix the path",
        "directory": f"secret file {secret} is not a regular file; point file at the secret",
    }
    assert problem == f"auth.ldap.bind_password: {expected[kind]}"


def test_a_missing_power_password_file(root: Path) -> None:
    secret = root / "ipmi.secret"

    def edit(raw: dict[str, Any], _: Path) -> None:
        raw["hosts"][1]["power"] = {"kind": "command", "on": ["true"], "off": ["true"],
                                    "password": {"file": str(secret)}}  # fmt: skip

    assert _refused_with(root, edit) == [
        f"hosts[1].power.password: secret file {secret}: No such file or directory; create it "
        "(mode 0600) or fix the path"
    ]


def test_a_socket_another_process_serves_is_left_alone(root: Path) -> None:
    raw = working_config(root)
    path = Path(raw["api"]["socket"])
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as other:
        other.bind(str(path))
        other.listen()
        problems = refused(write_config(root, raw))
        assert path.is_socket()  # still theirs
    assert problems == [
        f"api.socket: {path} is served by a running process (another engine?); stop it or "
        "choose another path"
    ]
