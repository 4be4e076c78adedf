"""The all-in-one installer run for real into a scratch root, its unit checked and started as
systemd would start it.

The scratch root (`--root`) starts as a Debian 12 system's account files, login.defs and
systemd's own units copied from this machine; everything else is what the installer puts there.
Two things differ from a fresh machine, both because a test must not reach PyPI: ovtui itself
is installed into the venv with --no-deps (from the local package index that this machine has),
and its dependencies are borrowed from the development venv through a .pth file.

Starting "as the unit would": the unit's own ExecStart, in a private mount namespace where the
scratch root is / (chroot, with the host's /usr and libraries bound in), as User=ovtui with
SupplementaryGroups=ovtui-operators, a clean environment, and NOTIFY_SOCKET, whose READY=1 the
test waits for (Type=notify), as systemd does.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ovtui.testdriver_fleet import write_fleet
from tests.conftest import standard_spec

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "appliance" / "install.sh"
UNIT = REPO / "appliance" / "systemd" / "ovtui-engine.service"
LOCAL_INDEX = Path("/opt/pypi/simple")
DEV_SITE = (
    Path(sys.prefix)
    / "lib"
    / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    / "site-packages"
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the installer creates users: needs root"),
    pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="Debian package systemd"),
]


def _install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    pip = f"--no-deps --index-url file://{LOCAL_INDEX}"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        ["sh", str(INSTALL), "--root", str(root), "--pip-args", pip, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def _tree(root: Path) -> dict[str, tuple[int, int, int, int, float]]:
    out = {}
    for path in root.rglob("*"):
        if "__pycache__" in path.parts or path.is_relative_to(root / "opt/ovtui/venv"):
            continue
        st = path.lstat()
        out[str(path.relative_to(root))] = (
            st.st_mode,
            st.st_uid,
            st.st_gid,
            st.st_size,
            st.st_mtime,
        )
    return out


def _account(root: Path, db: str, name: str) -> int:
    for line in (root / "etc" / db).read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2])
    raise AssertionError(f"{name} not in {root}/etc/{db}")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if not LOCAL_INDEX.is_dir():
        pytest.skip(f"no local package index {LOCAL_INDEX}: the venv step would need PyPI")
    # Short: the API socket ends up at <root>/run/ovtui/api.sock (sun_path is 108 bytes).
    base = Path(os.environ.get("TMPDIR", "/tmp"))
    root = Path(shutil.os.path.realpath(base)) / f"ovi-{os.getpid()}"
    shutil.rmtree(root, ignore_errors=True)
    (root / "etc").mkdir(parents=True)
    for name in (
        "passwd",
        "group",
        "shadow",
        "gshadow",
        "login.defs",
        "nsswitch.conf",
        "ld.so.cache",
    ):
        if Path("/etc", name).exists():
            shutil.copy2(Path("/etc", name), root / "etc" / name)
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    for top in ("lib", "lib64", "sbin"):  # merged /usr: these are symlinks into usr/
        if Path("/", top).is_symlink():
            (root / top).symlink_to(os.readlink(Path("/", top)))
    (root / "bin").mkdir()
    shutil.copy2("/bin/kill", root / "bin/kill")
    first = _install(root)
    assert first.returncode == 0, first.stderr
    assert "change(s)" in first.stdout
    site = next((root / "opt/ovtui/venv/lib").glob("python3*/site-packages"))
    (site / "zz_test_dependencies.pth").write_text(f"{DEV_SITE}\n")
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_a_second_run_changes_nothing_and_says_so(root: Path) -> None:
    before = _tree(root)
    again = _install(root)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == "nothing to change"
    assert "changed:" not in again.stdout
    assert _tree(root) == before


def test_the_installer_can_be_driven_by_automation(root: Path) -> None:
    result = _install(root, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"changed": [], "notes": []}


def test_accounts_owners_and_modes(root: Path) -> None:
    uid, gid = _account(root, "passwd", "ovtui"), _account(root, "group", "ovtui")
    operators = _account(root, "group", "ovtui-operators")
    assert "ovtui" in next(
        line
        for line in (root / "etc/group").read_text().splitlines()
        if line.startswith("ovtui-operators:")
    )
    expected = {
        "var/lib/ovtui": (0o700, uid, gid),
        "etc/ovtui": (0o750, 0, gid),
        "etc/ovtui/ovtui.toml": (0o640, 0, gid),
        "etc/ovtui/local-users.toml": (0o600, uid, gid),
        "etc/ovtui/admin.password": (0o600, 0, 0),
        "etc/systemd/system/ovtui-engine.service": (0o644, 0, 0),
        "etc/logrotate.d/ovtui": (0o644, 0, 0),
        "etc/ssh/sshd_config.d/ovtui-dashboard.conf": (0o644, 0, 0),
    }
    for path, (mode, owner, group) in expected.items():
        st = (root / path).stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (mode, owner, group), path
    assert operators != gid
    assert os.readlink(root / "usr/local/bin/ovtui") == "/opt/ovtui/venv/bin/ovtui"
    wants = root / "etc/systemd/system/multi-user.target.wants/ovtui-engine.service"
    assert os.readlink(wants) == "/etc/systemd/system/ovtui-engine.service"
    assert 'socket_group = "ovtui-operators"' in (root / "etc/ovtui/ovtui.toml").read_text()


def test_an_existing_config_is_never_overwritten(root: Path) -> None:
    config = root / "etc/ovtui/ovtui.toml"
    original = config.read_bytes()
    try:
        config.write_bytes(original + b"\n# edited by the operator\n")
        result = _install(root)
        assert result.returncode == 0, result.stderr
        assert config.read_bytes().endswith(b"# edited by the operator\n")
    finally:
        config.write_bytes(original)


def test_the_unit_verifies_and_a_broken_one_does_not(root: Path, tmp_path: Path) -> None:
    unit = "/etc/systemd/system/ovtui-engine.service"
    ok = subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", unit],
        capture_output=True,
        text=True,
        check=False,
    )
    # verify exits 0 on a value it ignores: any word on stderr is a finding.
    assert ok.returncode == 0 and ok.stderr == "", ok.stderr
    security = subprocess.run(
        [
            "systemd-analyze",
            "security",
            "--offline=true",
            f"--root={root}",
            "--threshold=25",
            "ovtui-engine.service",
        ],  # 25 = exposure 2.5 of 10; it is 1.7 today
        capture_output=True,
        text=True,
        check=False,
    )
    assert security.returncode == 0, security.stdout[-2000:]
    broken = root / "etc/systemd/system/ovtui-broken.service"
    broken.write_text(UNIT.read_text().replace("ProtectSystem=strict", "ProtectSystem=strictly"))
    try:
        bad = subprocess.run(
            [
                "systemd-analyze",
                "verify",
                f"--root={root}",
                "/etc/systemd/system/ovtui-broken.service",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert "ovtui-broken.service:32: Failed to parse protect system value" in bad.stderr
    finally:
        broken.unlink()


def _unit_service() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser["Service"]


def _fleet_config(root: Path) -> None:
    """A test-driver fleet (loopback only) as /etc/ovtui/ovtui.toml, paths as the unit sees them."""
    fleet = root / "etc/ovtui/fleet"
    path = write_fleet(
        standard_spec(),
        fleet,
        store_dir=Path("/var/lib/ovtui"),
        api_socket=Path("/run/ovtui/api.sock"),
    )
    text = path.read_text().replace(str(root), "")
    text = text.replace(
        'socket_mode = "0600"', 'socket_mode = "0660"\nsocket_group = "ovtui-operators"'
    )
    (root / "etc/ovtui/ovtui.toml").write_text(text)
    for xml in fleet.glob("*.xml"):
        xml.chmod(0o644)
    fleet.chmod(0o755)


def test_the_units_execstart_runs_the_engine_as_systemd_would(root: Path) -> None:
    service = _unit_service()
    command = shlex.split(service["ExecStart"])
    assert command == ["/opt/ovtui/venv/bin/ovtui", "--config", "/etc/ovtui/ovtui.toml", "engine"]
    config = root / "etc/ovtui/ovtui.toml"
    saved = config.read_bytes()
    _fleet_config(root)
    uid, gid = _account(root, "passwd", service["User"]), _account(root, "group", service["Group"])
    operators = _account(root, "group", service["SupplementaryGroups"])
    run_dir = root / "run" / service["RuntimeDirectory"]  # what systemd makes for RuntimeDirectory=
    run_dir.mkdir(parents=True, exist_ok=True)
    os.chown(run_dir, uid, gid)
    run_dir.chmod(int(service["RuntimeDirectoryMode"], 8))
    notify_path = root / "run/notify"
    notify_path.unlink(missing_ok=True)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(notify_path))
    notify_path.chmod(0o777)
    notify.settimeout(1)
    binds = " ".join(
        f"mkdir -p {root}{d} && mount --rbind {d} {root}{d} &&"
        for d in ("/usr", "/lib", "/lib64", "/dev", "/work")
        if Path(d).exists() and not Path(d).is_symlink()
    )
    script = (
        f"mount --make-rprivate / && {binds} mkdir -p {root}/proc && "
        f"mount -t proc proc {root}/proc && umask {service['UMask']} && "
        f"exec {shutil.which('chroot')} --userspec={uid}:{gid} --groups={operators} {root} "
        + shlex.join(command)
    )
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/var/lib/ovtui",
        "USER": "ovtui",
        "NOTIFY_SOCKET": "/run/notify",
        "RUNTIME_DIRECTORY": "/run/ovtui",
    }
    proc = subprocess.Popen(
        ["unshare", "--mount", "sh", "-c", script],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        message = _next_message(notify, proc)
        assert "READY=1" in message, message
        assert f"MAINPID={proc.pid}" in message  # the unit's main process is the engine itself
        sock = run_dir / "api.sock"
        st = sock.stat()
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (uid, operators, 0o660)
        password = (root / "etc/ovtui/admin.password").read_text().strip()
        with httpx.Client(
            transport=httpx.HTTPTransport(uds=str(sock)), base_url="http://ovtui"
        ) as c:
            r = c.post("/api/v1/sessions", json={"username": "admin", "password": password})
            assert r.status_code == 200, r.text
            token = r.json()["token"]
            hosts = c.get("/api/v1/hosts", headers={"Authorization": f"Bearer {token}"}).json()
            assert {h["name"] for h in hosts} == {"h1", "h2", "h3"}
        for name in ("state.json", "audit.jsonl", "audit.anchor"):
            assert (root / "var/lib/ovtui" / name).stat().st_uid == uid, name
        exe = os.readlink(f"/proc/{proc.pid}/exe")
        assert "python3" in exe
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert b"/opt/ovtui/venv/bin/ovtui" in cmdline
        os.kill(proc.pid, signal.SIGTERM)  # what `systemctl stop` sends
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out[-3000:]
        assert "STOPPING=1" in _next_message(notify, proc)
        assert "/opt/ovtui/venv/lib/" in _installed_module(root)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        notify.close()
        config.write_bytes(saved)
        shutil.rmtree(root / "var/lib/ovtui", ignore_errors=True)
        _install(root)  # the state directory again, as the installer makes it


def _next_message(notify: socket.socket, proc: subprocess.Popen[str]) -> str:
    for _ in range(120):
        try:
            return notify.recv(4096).decode()
        except TimeoutError:
            if proc.poll() is not None:
                break
    proc.kill()
    raise AssertionError(
        f"no word from the engine on NOTIFY_SOCKET: {proc.communicate()[0][-3000:]}"
    )


def _installed_module(root: Path) -> str:
    """Where the unit's python finds ovtui: the installed copy, not this checkout."""
    script = (
        f"mount --make-rprivate / && mount --rbind /usr {root}/usr && mount --rbind /work "
        f"{root}/work && exec {shutil.which('chroot')} {root} /opt/ovtui/venv/bin/python -c "
        "'import ovtui; print(ovtui.__file__)'"
    )
    out = subprocess.run(
        ["unshare", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        check=True,
    )
    return out.stdout


def test_uninstall_keeps_the_state_unless_asked(root: Path) -> None:
    marker = root / "var/lib/ovtui/keep-me"
    marker.write_text("state")
    try:
        result = _install(root, "--uninstall")
        assert result.returncode == 0, result.stderr
        assert "kept /etc/ovtui, /var/lib/ovtui" in result.stdout
        assert marker.exists() and (root / "etc/ovtui/ovtui.toml").exists()
        assert not (root / "opt/ovtui").exists()
        assert not (root / "etc/systemd/system/ovtui-engine.service").exists()
        again = _install(root, "--uninstall")
        assert again.stdout.strip().splitlines()[-1] == "nothing to change"
        purge = _install(root, "--uninstall", "--purge")
        assert purge.returncode == 0, purge.stderr
        assert not (root / "var/lib/ovtui").exists() and not (root / "etc/ovtui").exists()
        assert "ovtui:" not in (root / "etc/passwd").read_text()
    finally:
        assert _install(root).returncode == 0
