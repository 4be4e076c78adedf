"""Malformed configs, section by section, as a reviewer would write them: each is refused with
one line that starts with the key, and the message says what is wrong.

Two tables: what the file alone shows (`parse_config`: types, ranges, names, references), and
what only this machine shows (`check_environment`, run by `ovtui engine` before it creates
anything: files, modes, secrets, certificates, the socket, the group). test_engine_refuses.py
runs the real command for the cases of issue 10; these run in-process to stay cheap.
"""

from __future__ import annotations

import copy
import itertools
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ovtui.config import ConfigError, load_config
from ovtui.config.load import parse_config
from ovtui.config.preflight import environment_errors
from tests.config.toml_files import password_hash, private_file

SOURCE = "/etc/ovtui/ovtui.toml"
NAN, INF = float("nan"), float("inf")
TLS = {"tcp": "127.0.0.1:0", "tls_cert": "/etc/ovtui/api.crt", "tls_key": "/etc/ovtui/api.key"}
LDAP = {
    "urls": ["ldaps://ldap.example.org"],
    "bind_dn": "cn=svc,dc=example,dc=org",
    "bind_password": {"env": "OVTUI_TEST_BIND_PW"},
    "user_search_base": "dc=example,dc=org",
}


def base() -> dict[str, Any]:
    return {
        "engine": {"store_dir": "/var/lib/ovtui"},
        "datacenters": [{"name": "dc1"}],
        "clusters": [{"name": "c1", "datacenter": "dc1", "cpu_model": "Skylake-Server"}],
        "hosts": [{"name": "h1", "cluster": "c1", "uri": "qemu+ssh://root@h1/system"}],
    }


_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def put(raw: dict[str, Any], key: str, value: Any) -> None:
    """put(raw, "hosts[0].power.kind", "ipmi"): sets a nested key, making tables on the way."""
    parts: list[str | int] = [int(index) if index else name for name, index in _PART.findall(key)]
    node: Any = raw
    for part, following in itertools.pairwise(parts):
        if isinstance(part, str) and part not in node:
            node[part] = [] if isinstance(following, int) else {}
        node = node[part]
    node[parts[-1]] = value


def edit(**keys: Any) -> Callable[[dict[str, Any]], None]:
    """edit(**{"engine.store_dir": 5}) as a table row."""

    def apply(raw: dict[str, Any]) -> None:
        for key, value in keys.items():
            put(raw, key, value)

    return apply


def also(section: str, item: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda raw: raw.setdefault(section, []).append(item)


def grant(**fields: str) -> Callable[[dict[str, Any]], None]:
    return lambda raw: put(raw, "auth.grants", [{"user": "erin", "role": "ReadOnly", **fields}])


# (id, change, key, words in the message)
FILE_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    # [engine]
    ("quoted number", edit(**{"engine.poll_interval_seconds": "5"}),
     "engine.poll_interval_seconds", "valid number"),
    ("fractional count", edit(**{"engine.max_parallel_reads": 2.5}),
     "engine.max_parallel_reads", "valid integer"),
    ("boolean count", edit(**{"engine.max_parallel_reads": True}),
     "engine.max_parallel_reads", "valid integer"),
    ("path not a string", edit(**{"engine.store_dir": 5}),
     "engine.store_dir", 'must be a path in quotes, such as "/var/lib/ovtui"'),
    ("relative path", edit(**{"engine.store_dir": "var/lib/ovtui"}),
     "engine.store_dir", "'var/lib/ovtui' is not an absolute path"),
    ("negative interval", edit(**{"engine.poll_interval_seconds": -1}),
     "engine.poll_interval_seconds", "greater than 0"),
    ("zero timeout", edit(**{"engine.shutdown_timeout_seconds": 0}),
     "engine.shutdown_timeout_seconds", "greater than 0"),
    ("nan timeout", edit(**{"engine.migration_timeout_seconds": NAN}),
     "engine.migration_timeout_seconds", "finite number"),
    ("infinite timeout", edit(**{"engine.libvirt_call_timeout_seconds": INF}),
     "engine.libvirt_call_timeout_seconds", "finite number"),
    ("huge backoff", edit(**{"engine.connect_backoff_max_seconds": 1e9}),
     "engine.connect_backoff_max_seconds", "less than or equal to 86400"),
    # [api]
    ("mode as a number", edit(**{"api.socket_mode": 660}), "api.socket_mode", "valid string"),
    ("mode without the owner", edit(**{"api.socket_mode": "0060"}),
     "api.socket_mode", "locks the engine's own user out"),
    ("relative socket", edit(**{"api.socket": "api.sock"}), "api.socket", "not an absolute path"),
    ("group as a number", edit(**{"api.socket_group": 0}), "api.socket_group", "valid string"),
    ("tcp port out of range", edit(**{"api": {**TLS, "tcp": "127.0.0.1:70000"}}),
     "api.tcp", "'127.0.0.1:70000' is not HOST:PORT"),
    ("tls files without tcp", edit(**{"api.tls_cert": "/c", "api.tls_key": "/k"}),
     "api", 'tls_cert and tls_key serve only the tcp listener: set tcp = "HOST:PORT"'),
    # [exporter]
    ("exporter port out of range", edit(**{"exporter.listen": "127.0.0.1:65536"}),
     "exporter.listen", "'127.0.0.1:65536' is not HOST:PORT"),
    ("exporter port as a number", edit(**{"exporter.listen": 9177}),
     "exporter.listen", "valid string"),
    ("exporter bad address", edit(**{"exporter.listen": "10.0.0.300:9177"}),
     "exporter.listen", "does not appear to be an IPv4 or IPv6 address"),
    # [auth]
    ("zero session", edit(**{"auth.session_ttl_minutes": 0}),
     "auth.session_ttl_minutes", "greater than 0"),
    ("quoted minutes", edit(**{"auth.session_idle_minutes": "30"}),
     "auth.session_idle_minutes", "valid integer"),
    ("empty users path", edit(**{"auth.local_users_file": ""}),
     "auth.local_users_file", "'' is not an absolute path"),
    ("zero failures", edit(**{"auth.throttle.max_failures": 0}),
     "auth.throttle.max_failures", "greater than or equal to 1"),
    ("negative window", edit(**{"auth.throttle.window_seconds": -5}),
     "auth.throttle.window_seconds", "greater than 0"),
    ("lockout with a unit", edit(**{"auth.throttle.lockout_seconds": "15m"}),
     "auth.throttle.lockout_seconds", "valid number"),
    ("syslog port out of range", edit(**{"auth.audit_syslog": "udp://127.0.0.1:99999"}),
     "auth.audit_syslog", "is not a syslog target"),
    ("zero ldap timeout", edit(**{"auth.ldap": {**LDAP, "connect_timeout_seconds": 0}}),
     "auth.ldap.connect_timeout_seconds", "greater than 0"),
    ("yes for a boolean", edit(**{"auth.ldap": {**LDAP, "allow_insecure": "yes"}}),
     "auth.ldap.allow_insecure", "valid boolean"),
    ("one url as a string", edit(**{"auth.ldap": {**LDAP, "urls": "ldaps://x.example"}}),
     "auth.ldap.urls", "valid list"),
    ("unknown role", grant(role="Admin"), "auth.grants[0].role", "not a role; use one of"),
    ("unknown scope", grant(scope="rack", object="r1"),
     "auth.grants[0].scope", "'system', 'datacenter', 'cluster', 'host' or 'vm'"),
    ("grant on an unknown host", grant(scope="host", object="h9"),
     "auth.grants[0].object", "'h9' is not a defined host (valid: h1)"),
    ("grant on an unknown datacenter", grant(scope="datacenter", object="dc9"),
     "auth.grants[0].object", "'dc9' is not a defined datacenter (valid: dc1)"),
    ("grant on an unknown cluster", grant(scope="cluster", object="c9"),
     "auth.grants[0].object", "'c9' is not a defined cluster (valid: c1)"),
    ("grants as one table", edit(**{"auth.grants": {"user": "erin", "role": "Auditor"}}),
     "auth.grants", "valid list"),
    # [[datacenters]], [[clusters]], [[hosts]]
    ("duplicate datacenter", also("datacenters", {"name": "dc1"}),
     "datacenters[1].name", "'dc1' is already used by datacenters[0]"),
    ("datacenter name a number", edit(**{"datacenters[0].name": 5}),
     "datacenters[0].name", "valid string"),
    ("duplicate cluster", also("clusters", {"name": "c1", "datacenter": "dc1", "cpu_model": "X"}),
     "clusters[1].name", "'c1' is already used by clusters[0]"),
    ("quoted percent", edit(**{"clusters[0].memory_overcommit_percent": "150"}),
     "clusters[0].memory_overcommit_percent", "valid integer"),
    ("under-commit", edit(**{"clusters[0].memory_overcommit_percent": 50}),
     "clusters[0].memory_overcommit_percent", "greater than or equal to 100"),
    ("cluster in an unknown datacenter", edit(**{"clusters[0].datacenter": "dc9"}),
     "clusters[0].datacenter", "'dc9' is not a defined datacenter"),
    ("zero balance interval", edit(**{"clusters[0].scheduling.balance_interval_seconds": 0}),
     "clusters[0].scheduling.balance_interval_seconds", "greater than or equal to 10"),
    ("negative power-saving interval",
     edit(**{"clusters[0].scheduling.power_saving_interval_minutes": -1}),
     "clusters[0].scheduling.power_saving_interval_minutes", "greater than or equal to 1"),
    ("quoted policy parameter",
     edit(**{"clusters[0].scheduling.params": {"HighUtilization": "80"}}),
     "clusters[0].scheduling.params.HighUtilization", "must be a number (%)"),
    ("bad window", edit(**{"clusters[0].scheduling.power_saving_window": "25:00-06:00"}),
     "clusters[0].scheduling.power_saving_window", "is not a window"),
    ("duplicate host", also("hosts", {"name": "h1", "cluster": "c1", "uri": "qemu:///h2"}),
     "hosts[1].name", "'h1' is already used by hosts[0]"),
    ("host in an unknown cluster", edit(**{"hosts[0].cluster": "c9"}),
     "hosts[0].cluster", "'c9' is not a defined cluster (valid: c1)"),
    ("negative cpus", edit(**{"hosts[0].cpus": -1}), "hosts[0].cpus", "greater than 0"),
    ("zero memory", edit(**{"hosts[0].memory_mib": 0}), "hosts[0].memory_mib", "greater than 0"),
    ("quoted cpus", edit(**{"hosts[0].cpus": "4"}), "hosts[0].cpus", "valid integer"),
    ("uri a number", edit(**{"hosts[0].uri": 5}), "hosts[0].uri", "valid string"),
    ("unknown power kind", edit(**{"hosts[0].power.kind": "redfish"}),
     "hosts[0].power.kind", "'none', 'command' or 'ipmi'"),
    ("power commands that never run", edit(**{"hosts[0].power.on": ["x"]}),
     "hosts[0].power", 'on would never be used with kind = "none"'),
    ("power command as a string",
     edit(**{"hosts[0].power": {"kind": "command", "on": "poweron", "off": ["off"]}}),
     "hosts[0].power.on", "valid list"),
    ("secret variable a number", edit(**{"hosts[0].power.password": {"env": 5}}),
     "hosts[0].power.password.env", "valid string"),
    ("hosts as one table", edit(hosts={"name": "h1"}), "hosts", "valid list"),
]  # fmt: skip


def _lines(message: str, source: str = SOURCE) -> list[str]:
    lines = message.splitlines()
    assert lines and all(line.startswith(f"{source}: ") for line in lines), lines
    return [line.removeprefix(f"{source}: ") for line in lines]


@pytest.mark.parametrize(("change", "key", "words"),
                         [pytest.param(c, k, w, id=i) for i, c, k, w in FILE_CASES])  # fmt: skip
def test_the_file_alone(change: Callable[[dict[str, Any]], None], key: str, words: str) -> None:
    raw = base()
    change(raw)
    with pytest.raises(ConfigError) as info:
        parse_config(raw, source=SOURCE)
    problems = _lines(str(info.value))
    mine = [p for p in problems if p.startswith(f"{key}: ")]
    assert mine, problems
    assert any(words in p for p in mine), mine


def test_a_clear_text_bind_password_is_refused_and_not_echoed() -> None:
    raw = base()
    put(raw, "auth.ldap", {**LDAP, "bind_password": "hunter2"})
    with pytest.raises(ConfigError) as info:
        parse_config(raw, source=SOURCE)
    (problem,) = _lines(str(info.value))
    assert problem.startswith("auth.ldap.bind_password: ") and "hunter2" not in problem


def test_a_whole_section_is_not_echoed_back() -> None:
    # A check across a section's keys names the keys; its values (a secret's path) stay out.
    raw = base()
    put(raw, "hosts[0].power", {"on": ["x"], "password": {"file": "/etc/ovtui/ipmi.secret"}})
    with pytest.raises(ConfigError) as info:
        parse_config(raw, source=SOURCE)
    (problem,) = _lines(str(info.value))
    assert problem.startswith("hosts[0].power: on, password would never be used")
    assert "ipmi.secret" not in problem


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[engine]\nstore_dir = "/var/lib/ovtui\n', "line 2"),
        ("[engine]\npoll_interval_seconds = 5\npoll_interval_seconds = 6\n", "line 3"),
        ("[api]\nsocket\n", "line 2"),
        ("[[hosts]]\nname = 'h1'\n[hosts\n", "line 3"),
    ],
    ids=["unclosed string", "key twice", "no value", "unclosed header"],
)
def test_a_toml_syntax_error_names_its_line(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "ovtui.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    (problem,) = _lines(str(info.value), str(path))
    assert problem.startswith("not valid TOML: ") and f"(at {where}, column" in problem


def test_a_directory_given_as_the_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert str(info.value) == f"{tmp_path}: is a directory; pass --config PATH of the file"


# -- what only this machine can tell --------------------------------------------------------------
def _cert(root: Path, name: str, *extra: str) -> tuple[Path, Path]:
    cert, key = root / f"{name}.crt", root / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(key), "-out", str(cert), *(extra or ("-nodes",))],
        check=True, capture_output=True,
    )  # fmt: skip
    key.chmod(0o600)
    return cert, key


Machine = Callable[[Path, dict[str, Any]], None]


def _secret(text: str | bytes, mode: int = 0o600) -> Machine:
    def make(root: Path, raw: dict[str, Any]) -> None:
        path = root / "ipmi.secret"
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        path.chmod(mode)
        put(raw, "hosts[0].power", {"kind": "command", "on": ["true"], "off": ["true"],
                                    "password": {"file": str(path)}})  # fmt: skip

    return make


def _env_secret(value: str | None) -> Machine:
    def make(_root: Path, raw: dict[str, Any]) -> None:
        os.environ.pop("OVTUI_TEST_IPMI_PW", None)
        if value is not None:
            os.environ["OVTUI_TEST_IPMI_PW"] = value
        put(raw, "hosts[0].power", {"kind": "command", "on": ["true"], "off": ["true"],
                                    "password": {"env": "OVTUI_TEST_IPMI_PW"}})  # fmt: skip

    return make


def _tls(cert: str, key: str, key_mode: int = 0o600) -> Machine:
    """cert/key: 'good', 'other' (a second pair), 'der', 'garbage', 'encrypted', 'dir'."""

    def make(root: Path, raw: dict[str, Any]) -> None:
        good = _cert(root, "good")
        paths = {"cert": good[0], "key": good[1]}
        for which, kind in (("cert", cert), ("key", key)):
            target = root / f"{kind}.{which}"
            if kind == "other":
                paths[which] = _cert(root, "other")[0 if which == "cert" else 1]
            elif kind == "encrypted":
                paths[which] = _cert(root, "enc", "-passout", "pass:x")[1]
            elif kind == "der":
                subprocess.run(["openssl", "x509", "-in", str(good[0]), "-outform", "DER",
                                "-out", str(target)], check=True)  # fmt: skip
                paths[which] = target
            elif kind == "garbage":
                paths[which] = private_file(target, "not a certificate\n")
            elif kind == "dir":
                target.mkdir()
                paths[which] = target
        if paths["key"].is_file():
            paths["key"].chmod(key_mode)
        raw["api"] = {**raw.get("api", {}), "tcp": "127.0.0.1:0",
                      "tls_cert": str(paths["cert"]), "tls_key": str(paths["key"])}  # fmt: skip

    return make


def _users(text: str | bytes | None, mode: int = 0o600) -> Machine:
    def make(root: Path, raw: dict[str, Any]) -> None:
        path = root / "users.toml"
        if text is None:
            path.mkdir()
        else:
            path.write_bytes(text.encode() if isinstance(text, str) else text)
            path.chmod(mode)
        raw["auth"]["local_users_file"] = str(path)

    return make


def _user_entry(**fields: str) -> str:
    entry = {"name": '"admin"', "password_hash": f'"{password_hash()}"', "roles": '["SuperUser"]'}
    entry.update(fields)
    return "[[users]]\n" + "".join(f"{k} = {v}\n" for k, v in entry.items() if v)


def _at(key: str, value: Callable[[Path], Any]) -> Machine:
    return lambda root, raw: put(raw, key, value(root))


def _file(name: str, text: str = "x\n") -> Callable[[Path], str]:
    def make(root: Path) -> str:
        (root / name).write_text(text)
        return str(root / name)

    return make


MACHINE_CASES: list[tuple[str, Machine, str, str]] = [
    ("group-readable secret", _secret("pw\n", 0o640),
     "hosts[0].power.password", "(mode 0640); run: chmod 600"),
    ("world-readable secret", _secret("pw\n", 0o604),
     "hosts[0].power.password", "readable by group or others (mode 0604)"),
    ("empty secret", _secret("\n"), "hosts[0].power.password", "is empty; write the secret"),
    ("secret not UTF-8", _secret(b"\xff\xfe"), "hosts[0].power.password", "is not UTF-8 text"),
    ("unset env secret", _env_secret(None),
     "hosts[0].power.password", "environment variable OVTUI_TEST_IPMI_PW is not set"),
    ("empty env secret", _env_secret(""), "hosts[0].power.password", "is not set (or empty)"),
    ("unset bind password", _at("auth.ldap", lambda _: LDAP),
     "auth.ldap.bind_password", "environment variable OVTUI_TEST_BIND_PW is not set"),
    ("certificate not PEM", _tls("garbage", "good"), "api.tls_cert", "holds no PEM certificate"),
    ("certificate in DER", _tls("der", "good"), "api.tls_cert", "openssl x509 -in"),
    ("certificate a directory", _tls("dir", "good"), "api.tls_cert", "is not a regular file"),
    ("key not PEM", _tls("good", "garbage"), "api.tls_key", "holds no PEM private key"),
    ("key of another certificate", _tls("good", "other"),
     "api.tls_key", "give the key that belongs to tls_cert"),
    ("encrypted key", _tls("good", "encrypted"), "api.tls_key", "cannot ask for its passphrase"),
    ("group-readable key", _tls("good", "good", 0o640), "api.tls_key", "run: chmod 600"),
    ("socket path too long", _at("api.socket", lambda r: str(r / ("s" * 120))),
     "api.socket", "a Unix socket path may have at most 107"),
    ("socket path is a file", _at("api.socket", _file("api.sock")),
     "api.socket", "exists and is not a socket"),
    ("socket under a file", _at("api.socket", lambda r: _file("run")(r) + "/api.sock"),
     "api.socket", "is not a directory"),
    ("unknown socket group", _at("api.socket_group", lambda _: "no-such-grp"),
     "api.socket_group", "no group 'no-such-grp' on this machine"),
    ("store_dir a file", _at("engine.store_dir", _file("state")),
     "engine.store_dir", "exists and is not a directory"),
    ("store_dir under a file", _at("engine.store_dir", lambda r: _file("st")(r) + "/x"),
     "engine.store_dir", "cannot be created"),
    ("users file missing", _at("auth.local_users_file", lambda r: str(r / "none.toml")),
     "auth.local_users_file", "no such file; create it"),
    ("users file a directory", _users(None), "auth.local_users_file", "is a directory"),
    ("group-readable users file", _users(_user_entry(), 0o640),
     "auth.local_users_file", "readable by group or others (mode 0640)"),
    ("users file not UTF-8", _users(b'[[users]]\nname = "\xe9"\n'),
     "auth.local_users_file", "line 2: not UTF-8"),
    ("users file not TOML", _users("[[users]\n"), "auth.local_users_file", "not valid TOML"),
    ("users file misspelt table", _users(_user_entry().replace("[[users]]", "[[user]]")),
     "auth.local_users_file", "user: unknown key (valid keys: users)"),
    ("users entry unknown key", _users(_user_entry(roles="", role='["SuperUser"]')),
     "auth.local_users_file", "users[0].role: unknown key"),
    ("users entry clear password", _users(_user_entry(password_hash='"hunter2"')),
     "auth.local_users_file", "users[0].password_hash: not a hash written by"),
    ("users entry unknown role", _users(_user_entry(roles='["God"]')),
     "auth.local_users_file", "users[0].roles: unknown ['God']"),
    ("users entry name a number", _users(_user_entry(name="5")),
     "auth.local_users_file", "users[0].name: must be a string"),
    ("users twice", _users(_user_entry() + _user_entry()),
     "auth.local_users_file", "users[1].name: 'admin' is already defined"),
    ("power command not found", _at("hosts[0].power", lambda _: {
        "kind": "command", "on": ["/nonexistent/poweron"], "off": ["true"]}),
     "hosts[0].power.on[0]", "'/nonexistent/poweron' is not an executable file"),
]  # fmt: skip


def _machine_config(root: Path) -> dict[str, Any]:
    raw = base()
    users = private_file(root / "local-users.toml", _user_entry())
    raw["engine"] = {"store_dir": str(root / "store")}
    raw["api"] = {"socket": str(root / "api.sock")}
    raw["auth"] = {"local_users_file": str(users)}
    return raw


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OVTUI_TEST_BIND_PW", raising=False)
    monkeypatch.setenv("OVTUI_TEST_IPMI_PW", "")  # restored after the test, whatever it sets


@pytest.mark.parametrize(("make", "key", "words"),
                         [pytest.param(m, k, w, id=i) for i, m, k, w in MACHINE_CASES])  # fmt: skip
@pytest.mark.usefixtures("clean_env")
def test_what_the_machine_shows(tmp_path: Path, make: Machine, key: str, words: str) -> None:
    raw = _machine_config(tmp_path)
    make(tmp_path, raw)
    config = parse_config(copy.deepcopy(raw), source=SOURCE)
    problems = environment_errors(config)
    assert problems, "accepted"
    assert all("\n" not in msg for _, msg in problems), problems
    mine = [msg for k, msg in problems if k == key]
    assert any(words in msg for msg in mine), problems


def test_a_working_machine_config_has_no_findings(tmp_path: Path) -> None:
    raw = _machine_config(tmp_path)
    _tls("good", "good")(tmp_path, raw)
    _secret("pw\n")(tmp_path, raw)
    raw["api"]["socket_group"] = "root"
    assert environment_errors(parse_config(raw, source=SOURCE)) == []


def test_the_default_users_file_may_be_absent_only_with_a_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = Path("/etc/ovtui/local-users.toml")
    if default.exists():
        pytest.skip(f"{default} exists on this machine")
    raw = _machine_config(tmp_path)
    del raw["auth"]["local_users_file"]
    (problem,) = environment_errors(parse_config(copy.deepcopy(raw), source=SOURCE))
    assert problem == (
        "auth.local_users_file",
        f"{default}: no such file; this is the default and there is no [auth.ldap], so nobody "
        "could sign in: create it (ovtui hash-password makes the hash) or configure [auth.ldap]",
    )
    monkeypatch.setenv("OVTUI_TEST_BIND_PW", "svc-secret")
    raw["auth"]["ldap"] = LDAP
    assert environment_errors(parse_config(raw, source=SOURCE)) == []
