"""`ovtui` against a running engine: sign-in, tables and JSON, actions, and one-line errors."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auth.passwords import verify_password
from ovtui.cli.main import main
from ovtui.testdriver_fleet import vm_uuid
from tests.conftest import (
    API,
    PASSWORD,
    LiveEngine,
    eventually,
    fleet_config,
    running_engine,
    standard_spec,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveEngine]:
    """One engine for the tests that only read or get refused; tests that act use `acting`."""
    with running_engine(standard_spec()) as running:
        yield running


def _runner(live: LiveEngine, tmp_path: Path, monkeypatch, capsys) -> Any:
    """Runs `ovtui ARGS` in-process against `live`; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("OVTUI_SOCKET", str(live.socket))
    for var in ("OVTUI_TOKEN", "OVTUI_PASSWORD", "OVTUI_CONFIG"):
        monkeypatch.delenv(var, raising=False)

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _login_with(cli: Any) -> Any:
    def login(user: str = "admin") -> Any:
        code, _, err = cli("login", "-u", user, "--password-stdin", stdin=f"{PASSWORD}\n")
        assert code == 0, err
        return cli

    return login


@pytest.fixture
def cli(live: LiveEngine, tmp_path: Path, monkeypatch, capsys) -> Any:
    return _runner(live, tmp_path, monkeypatch, capsys)


@pytest.fixture
def signed_in(cli) -> Any:
    return _login_with(cli)


@pytest.fixture
def acting(start_engine, tmp_path: Path, monkeypatch, capsys) -> tuple[LiveEngine, Any]:
    """A fresh engine of its own, for a test that changes the fleet, and its signed_in."""
    own = start_engine()
    return own, _login_with(_runner(own, tmp_path, monkeypatch, capsys))


def _one_line_error(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    assert lines[0].startswith("ovtui: ")
    return lines[0]


def _token_file(tmp_path: Path) -> Path:
    return tmp_path / "ovtui" / "session.json"


# -- signing in --------------------------------------------------------------------------------
def test_login_with_password_stdin_keeps_a_private_token(
    cli, live: LiveEngine, tmp_path: Path
) -> None:
    code, out, err = cli("login", "-u", "operator", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert (code, err) == (0, "")
    path = _token_file(tmp_path)
    assert out == f"signed in as operator (Operator); session in {path}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    saved = json.loads(path.read_text())
    assert saved["socket"] == str(live.socket)
    me = live.client(saved["token"]).get(f"{API}/sessions/current").json()
    assert me["user"] == "operator"
    code, out, _ = cli("whoami")
    assert code == 0
    assert (
        out == "operator: roles Operator; may events.read, inventory.read, vm.console, vm.power\n"
    )


def test_refused_login_is_one_line_and_saves_nothing(cli, tmp_path: Path) -> None:
    code, out, err = cli("login", "-u", "operator", "--password-stdin", stdin="wrong\n")
    assert code == 1 and out == ""
    assert _one_line_error(err) == (
        "ovtui: sign-in refused: unknown user or wrong password (HTTP 401)"
    )
    assert not _token_file(tmp_path).exists()


def test_login_without_a_terminal_asks_for_password_stdin(cli) -> None:
    code, _, err = cli("login", "-u", "operator")  # stdin is not a terminal here
    assert code == 2
    assert _one_line_error(err) == "ovtui: no terminal to ask for a password: use --password-stdin"


def test_commands_need_a_session(cli, live: LiveEngine) -> None:
    for args in (("vm", "list"), ("host", "list"), ("vm", "poweroff", "web-1"), ("whoami",)):
        code, out, err = cli(*args)
        assert code == 1 and out == ""
        assert _one_line_error(err) == (
            f"ovtui: not signed in to the engine at {live.socket}: run `ovtui login` first"
        )


def test_a_token_for_another_socket_is_not_used(signed_in, live: LiveEngine, monkeypatch) -> None:
    cli = signed_in("viewer")
    monkeypatch.setenv("OVTUI_SOCKET", str(live.socket) + ".other")
    code, _, err = cli("vm", "list")
    assert code == 1 and "run `ovtui login` first" in _one_line_error(err)


def test_logout_forgets_and_revokes_the_token(signed_in, live: LiveEngine, tmp_path) -> None:
    cli = signed_in("viewer")
    token = json.loads(_token_file(tmp_path).read_text())["token"]
    code, out, _ = cli("logout")
    assert (code, out) == (0, "signed out\n")
    assert not _token_file(tmp_path).exists()
    assert live.client(token).get(f"{API}/vms").status_code == 401
    code, _, err = cli("vm", "list")
    assert code == 1 and "run `ovtui login` first" in err


def test_unreachable_engine_is_one_line_with_what_to_check(signed_in, monkeypatch, tmp_path):
    cli = signed_in("viewer")
    token = json.loads(_token_file(tmp_path).read_text())["token"]
    missing = tmp_path / "no-engine.sock"
    monkeypatch.setenv("OVTUI_SOCKET", str(missing))
    monkeypatch.setenv("OVTUI_TOKEN", token)
    code, _, err = cli("vm", "list")
    assert code == 1
    line = _one_line_error(err)
    assert line.startswith(f"ovtui: cannot reach the engine at {missing}: ")
    assert "is `ovtui engine` running" in line


# -- inventory ---------------------------------------------------------------------------------
def test_vm_list_table(signed_in) -> None:
    code, out, err = signed_in("viewer")("vm", "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "STATE", "HOST", "CLUSTER", "VCPU", "MEM", "CPU", "FLAGS"]
    rows = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert set(rows) == {"web-1", "web-2", "big-1", "pin-1", "nomig-1", "off-1", "db-1", "other-1"}
    assert rows["web-1"][:6] == ["web-1", "running", "h1", "c1", "2", "4G"]
    assert rows["web-1"][6].endswith("%*") and rows["web-1"][7] == "ha"
    assert rows["pin-1"][-1] == "pinned" and rows["nomig-1"][-1] == "nomigrate"
    assert rows["off-1"][1:3] == ["shutoff", "h1"] and rows["off-1"][6] == "0%*"
    assert lines[-1] == (
        "(CPU figures marked * come from the demo's SYNTHETIC load model, not measurements)"
    )


def _without_cpu(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # cpu_usage follows the synthetic clock, so it may move between two reads
    return sorted(
        ({k: v for k, v in r.items() if k != "cpu_usage"} for r in rows), key=lambda r: r["uuid"]
    )


def test_vm_list_json_matches_the_api(signed_in, live: LiveEngine) -> None:
    code, out, _ = signed_in("viewer")("vm", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    api = live.as_role("ReadOnly").get(f"{API}/vms").json()
    assert len(rows) == 8
    assert _without_cpu(rows) == _without_cpu(api)


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("--host", "h2"), {"db-1"}),
        (("--state", "shutoff"), {"off-1"}),
        (("--cluster", "c2"), {"other-1"}),
        (("--name", "web"), {"web-1", "web-2"}),
        (("--host", "h1", "--name", "i"), {"big-1", "pin-1", "nomig-1"}),
    ],
)
def test_vm_list_filters(signed_in, args: tuple[str, ...], names: set[str]) -> None:
    code, out, _ = signed_in("viewer")("vm", "list", "--json", *args)
    assert code == 0
    assert {r["name"] for r in json.loads(out)} == names


def _record(text: str) -> dict[str, str]:
    """`key  value` lines (values may be empty) as a dict."""
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        out[key] = value.strip()
    return out


def test_vm_show(signed_in, live: LiveEngine) -> None:
    cli = signed_in("viewer")
    code, out, _ = cli("vm", "show", "pin-1")
    assert code == 0
    fields = _record(out)
    assert fields["name"] == "pin-1" and fields["host"] == "h1"
    assert fields["uuid"] == vm_uuid("pin-1") and fields["pinned"] == "True"
    code, out, _ = cli("vm", "show", "--json", vm_uuid("pin-1"))
    shown = json.loads(out)
    api = live.as_role("ReadOnly").get(f"{API}/vms/pin-1").json()
    assert _without_cpu([shown]) == _without_cpu([api])


def test_host_list_and_show(signed_in) -> None:
    cli = signed_in("viewer")
    code, out, _ = cli("host", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "NAME", "STATE", "CLUSTER", "CPUS", "CPU", "MEMORY", "VMS", "MIGRATION", "REASON"
    ]  # fmt: skip
    rows = {line.split()[0]: line for line in lines[1:-1]}
    assert set(rows) == {"h1", "h2", "h3"}
    assert rows["h1"].split()[:4] == ["h1", "up", "c1", "16"]
    assert "50/64 GiB" in rows["h1"] and "cold only" in rows["h1"]  # 51200 MiB running
    code, out, _ = cli("host", "list", "--json", "--cluster", "c1")
    assert [h["name"] for h in json.loads(out)] == ["h1", "h2"]

    code, out, _ = cli("host", "show", "h2")
    assert code == 0
    record, table = out.split("\n\n")
    fields = _record(record)
    assert (fields["name"], fields["state"], fields["memory_mib"]) == ("h2", "up", "32768")
    assert [line.split()[0] for line in table.splitlines()] == ["NAME", "db-1"]


# -- actions -----------------------------------------------------------------------------------
def _state(live: LiveEngine, name: str) -> dict[str, Any]:
    """The VM as the API shows it ({} while a migration has it on neither host)."""
    resp = live.as_role("ReadOnly").get(f"{API}/vms/{vm_uuid(name)}")
    vm: dict[str, Any] = resp.json() if resp.status_code == 200 else {}
    return vm


def test_vm_poweroff_and_start(acting) -> None:
    live, signed_in = acting
    cli = signed_in("operator")
    code, out, err = cli("vm", "poweroff", "web-2")
    assert (code, err) == (0, "")
    assert out.startswith("web-2 on h1: poweroff done (") and out.endswith(" s)\n")
    eventually(lambda: _state(live, "web-2").get("state") == "shutoff", what="web-2 off")
    code, out, _ = cli("vm", "start", "web-2", "--json")
    assert code == 0
    assert {k: v for k, v in json.loads(out).items() if k != "seconds"} == {
        "vm": "web-2",
        "uuid": vm_uuid("web-2"),
        "host": "h1",
        "action": "start",
        "result": "done",
    }
    eventually(lambda: _state(live, "web-2").get("state") == "running", what="web-2 running")


def test_vm_migrate_reports_cold_migration(acting) -> None:
    live, signed_in = acting
    code, out, err = signed_in("poweruser")("vm", "migrate", "web-2", "h2")
    assert (code, err) == (0, "")
    first, note = out.splitlines()
    assert first.startswith("web-2: h1 -> h2, cold migration, ") and first.endswith(" s")
    assert note == ("note: cold migration: the driver cannot migrate live, so the VM was restarted")
    eventually(lambda: _state(live, "web-2").get("host") == "h2", what="web-2 on h2")


@pytest.mark.parametrize(
    ("user", "args", "message"),
    [
        ("viewer", ("vm", "show", "web-9"),
         "ovtui: no VM named or with UUID 'web-9' (list them: ovtui vm list) (HTTP 404)"),
        ("viewer", ("host", "show", "h9"),
         "ovtui: no host named 'h9' (list them: ovtui host list) (HTTP 404)"),
        ("poweruser", ("vm", "migrate", "web-2", "h3"),
         "ovtui: migrate web-2 refused: web-2 is in cluster c1 and h3 in c2: migration across "
         "clusters is refused (their CPU models may differ); pick a host in c1 (HTTP 409)"),
        ("viewer", ("vm", "poweroff", "web-2"),
         "ovtui: viewer may not vm.power on vm web-2: none of roles ['ReadOnly'] grants it "
         "(HTTP 403)"),
    ],
)  # fmt: skip
def test_errors_are_one_line_and_exit_non_zero(
    signed_in, user: str, args: tuple[str, ...], message: str
) -> None:
    code, out, err = signed_in(user)(*args)
    assert code == 1 and out == ""
    assert _one_line_error(err) == message


def test_a_libvirt_failure_is_one_line(signed_in) -> None:
    code, _, err = signed_in("operator")("vm", "start", "web-1")  # already running
    assert code == 1
    line = _one_line_error(err)
    assert line.startswith("ovtui: start web-1 on h1 failed: ") and "already running" in line


def test_socket_option_before_or_after_the_command(signed_in, live: LiveEngine, monkeypatch):
    cli = signed_in("viewer")
    monkeypatch.delenv("OVTUI_SOCKET")
    for args in (
        ("--socket", str(live.socket), "host", "list", "--json"),
        ("host", "list", "--json", "--socket", str(live.socket)),
    ):
        code, out, err = cli(*args)
        assert code == 0, err
        assert len(json.loads(out)) == 3


def test_hash_password_prints_a_verifiable_hash(cli) -> None:
    code, out, _ = cli("hash-password", "--password-stdin", stdin="correct horse\n")
    assert code == 0
    encoded = out.strip()
    assert encoded.startswith("scrypt$") and verify_password("correct horse", encoded)
    assert not verify_password("wrong horse", encoded)
    code, out, err = cli("hash-password", "--password-stdin", stdin="\n")
    assert code == 2 and out == ""
    assert _one_line_error(err) == "ovtui: an empty password cannot be hashed"


# -- the engine command (subprocess) -------------------------------------------------------------
def _ovtui(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ovtui.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


@pytest.mark.parametrize("where", ["after", "before"])
def test_engine_with_a_wrong_key_exits_2_naming_file_and_key(tmp_path: Path, where: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        (ROOT / "appliance" / "ovtui.example.toml")
        .read_text()
        .replace("poll_interval_seconds", "poll_intervall_seconds")
    )
    args = (
        ("engine", "--config", str(bad)) if where == "after" else ("--config", str(bad), "engine")
    )
    proc = _ovtui(*args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "ovtui: configuration error:",
        f"{bad}: engine.poll_intervall_seconds: unknown key (valid keys: store_dir, "
        "poll_interval_seconds, libvirt_call_timeout_seconds, connect_backoff_max_seconds, "
        "shutdown_timeout_seconds, migration_timeout_seconds, max_parallel_reads, postgresql, "
        "standby_poll_seconds)",
    ]


def _engine_toml(tmp_path: Path, *, users_mode: int = 0o600) -> Path:
    config = fleet_config(standard_spec())
    root = config.engine.store_dir.parent
    users = config.auth.local_users_file
    assert users is not None
    users.chmod(users_mode)
    toml = root / "ovtui.toml"
    with toml.open("a") as fh:
        fh.write(f'\n[auth]\nlocal_users_file = "{users}"\n')
    return toml


def test_engine_refuses_a_users_file_others_can_read(tmp_path: Path) -> None:
    toml = _engine_toml(tmp_path, users_mode=0o644)
    users = toml.parent / "local-users.toml"
    proc = _ovtui("engine", "--config", str(toml))
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if not ln.startswith("I/O warning")]
    assert lines == [
        "ovtui: configuration error:",
        f"{toml}: auth.local_users_file: {users}: readable by group or others (mode 0644); "
        f"run: chmod 600 {users}",
    ], proc.stderr


def test_a_second_engine_on_the_same_state_is_refused(live: LiveEngine, tmp_path: Path) -> None:
    written = live.store_dir.parent / "ovtui.toml"  # what `live` was written from
    toml = tmp_path / "second.toml"  # with the users file that `live` was given
    users = live.store_dir.parent / "local-users.toml"
    toml.write_text(written.read_text() + f'\n[auth]\nlocal_users_file = "{users}"\n')
    proc = _ovtui("engine", "--config", str(toml))
    assert proc.returncode == 1
    line = proc.stderr.splitlines()[-1]
    assert line.startswith(f"ovtui: engine not started: state directory {live.store_dir} ")
    assert "in use by another ovtui process" in line and proc.stderr.count("\n") == 1


@pytest.mark.slow
def test_engine_process_serves_the_cli_and_stops_on_sigterm(tmp_path: Path, monkeypatch, capsys):
    toml = _engine_toml(tmp_path)
    socket = toml.parent / "api.sock"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ovtui.cli.main", "engine", "--config", str(toml)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        eventually(lambda: socket.exists() or proc.poll() is not None, timeout=20, what="socket")
        assert proc.poll() is None
        assert stat.S_IMODE(socket.stat().st_mode) == 0o600  # as the generated config says
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
        monkeypatch.setattr(sys, "stdin", io.StringIO(f"{PASSWORD}\n"))
        assert main(["--config", str(toml), "login", "-u", "viewer", "--password-stdin"]) == 0
        capsys.readouterr()
        assert main(["--config", str(toml), "host", "list", "--json"]) == 0
        hosts = json.loads(capsys.readouterr().out)
        assert {h["name"] for h in hosts} == {"h1", "h2", "h3"}
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert not socket.exists()


def test_an_exporter_port_in_use_stops_the_engine_with_the_fix(tmp_path: Path) -> None:
    import socket as sockets

    toml = _engine_toml(tmp_path)
    with sockets.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        text = toml.read_text()
        assert 'listen = "127.0.0.1:0"' in text
        toml.write_text(text.replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{port}"'))
        proc = _ovtui("engine", "--config", str(toml))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines()[-2:] == [
        "ovtui: configuration error:",
        f"{toml}: exporter.listen: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "stop what holds it or set exporter.listen to a free address",
    ]
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGHUP, signal.SIGTERM])
def test_headless_demo_prints_how_to_use_it_and_cleans_up(stop: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ovtui.cli.main", "demo", "--no-tui"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(6)]
        text = "".join(lines)
        assert "load is SYNTHETIC" in text, text
        socket = Path(next(ln for ln in lines if "OVTUI_SOCKET=" in ln).split("=", 1)[1].strip())
        metrics = next(ln for ln in lines if ln.startswith("Prometheus metrics: "))
        url = metrics.removeprefix("Prometheus metrics: ").strip()
        import httpx

        body = httpx.get(url, timeout=30).text
        assert 'ovtui_host_up{host="kvm-a01"} 1.0' in body
        assert socket.exists()
        engine_pid = int(next(ln for ln in lines if "(PID " in ln).split("(PID ")[1].split(")")[0])
    finally:
        os.kill(proc.pid, stop)  # Ctrl-C, a closed terminal, or a kill
        proc.wait(timeout=30)
    assert not socket.parent.exists()  # its temporary directory is gone
    with pytest.raises(ProcessLookupError):  # and so is its engine
        os.kill(engine_pid, 0)


def test_vm_table_names_source_and_target_of_a_migrating_vm(capsys) -> None:
    from ovtui.cli.inventory_cmds import VM_COLUMNS
    from ovtui.cli.output import print_table

    base = {"cluster": "c1", "vcpus": 1, "memory_mib": 1024, "cpu_usage": None}
    base |= {"highly_available": False, "pinned": False, "migratable": True}
    rows = [
        {**base, "name": "web-1", "state": "migrating", "host": "h1", "migration_target": "h2"},
        {**base, "name": "x-1", "state": "teleporting", "host": "h1"},  # unknown: as sent
    ]
    print_table(rows, VM_COLUMNS)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:5] == ["web-1", "migrating", "h1", "->", "h2"]
    assert lines[2].split()[:3] == ["x-1", "teleporting", "h1"]
