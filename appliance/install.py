#!/usr/bin/env python3
"""Turn a Debian 12 machine into the all-in-one ovtui appliance, or take it off again.

    appliance/install.sh [--root DIR] [--pip-args ARGS] [--start]
    appliance/install.sh --uninstall [--purge]

Every step compares what is there with what should be and changes only the difference, so a
second run changes nothing and says so ("nothing to change"). The config, the users file and the
state are created once and never overwritten. Nothing asks questions: the Ansible role (and any
other automation) runs the same script; exit 0 = done, 1 = a step failed (its message says why),
and `--json` prints what each step did. `--root DIR` installs into DIR as if it were / (a chroot
being prepared, or the tests); users and groups then go into DIR/etc (useradd --prefix).

Standard library only: it runs with Debian's python3 before the appliance's venv exists.
"""

from __future__ import annotations

import argparse
import grp
import hashlib
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent  # the project checkout this installer belongs to
APP_DIRS = ("ovtui", "auth", "collectors", "policies")
APP_FILES = ("pyproject.toml", "README.md")
USER, GROUP, OPERATORS = "ovtui", "ovtui", "ovtui-operators"
UNIT = "ovtui-engine.service"
# Debian's python3 builds the venv (not whichever python runs this script, e.g. a pyenv one).
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable


@dataclass
class Report:
    changes: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    quiet: bool = False  # --json: only the JSON at the end on stdout
    dry: bool = False  # --check: report what would change, change nothing

    def changed(self, what: str) -> None:
        self.changes.append(what)
        if not self.quiet:
            print(f"{'would change' if self.dry else 'changed'}: {what}", flush=True)

    def act(self, what: str) -> bool:
        """Records a change; True if it is to be made (False under --check). Steps call it
        before acting, so that a check run stops at the same decisions a real run takes."""
        self.changed(what)
        return not self.dry

    def ok(self, what: str) -> None:
        self.kept.append(what)


class InstallError(Exception):
    pass


class Target:
    """Paths and accounts of the machine being installed (`root` is / unless --root)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    @property
    def prefixed(self) -> bool:
        return self.root != Path("/")

    def _db(self, name: str) -> list[list[str]]:
        try:
            text = self("/etc/" + name).read_text()
        except FileNotFoundError:
            return []
        return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]

    def uid(self, user: str) -> int | None:
        if not self.prefixed:
            try:
                return pwd.getpwnam(user).pw_uid
            except KeyError:
                return None
        return next((int(r[2]) for r in self._db("passwd") if r[0] == user), None)

    def gid(self, group: str) -> int | None:
        if not self.prefixed:
            try:
                return grp.getgrnam(group).gr_gid
            except KeyError:
                return None
        return next((int(r[2]) for r in self._db("group") if r[0] == group), None)

    def members(self, group: str) -> list[str]:
        if not self.prefixed:
            try:
                return list(grp.getgrnam(group).gr_mem)
            except KeyError:
                return []
        row = next((r for r in self._db("group") if r[0] == group), None)
        return [m for m in row[3].split(",") if m] if row and len(row) > 3 else []


def run(cmd: list[str], **kwargs: object) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise InstallError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr.strip()}")


# -- generic steps ----------------------------------------------------------------------------
def ensure_dir(t: Target, r: Report, path: str, mode: int, owner: str, group: str) -> None:
    p = t(path)
    if not p.is_dir():
        if not r.act(f"created {path}"):
            return  # its owner and mode are set when it is made
        p.mkdir(parents=True, mode=mode)
    _ensure_meta(t, r, path, mode, owner, group)


def ensure_file(
    t: Target,
    r: Report,
    path: str,
    content: bytes,
    mode: int = 0o644,
    owner: str = "root",
    group: str = "root",
    *,
    keep_existing: bool = False,
) -> None:
    """`path` holds `content`; with keep_existing an existing file is left as it is (config)."""
    p = t(path)
    if p.exists() and keep_existing:
        r.ok(f"{path} kept as it is")
        _ensure_meta(t, r, path, mode, owner, group)
        return
    if not p.exists() or p.read_bytes() != content:
        existed = p.exists()
        if not r.act(f"wrote {path}"):
            if not existed:
                return
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.with_name(f".{p.name}.ovtui-install")
            tmp.write_bytes(content)
            os.chmod(tmp, mode)
            uid, gid = t.uid(owner), t.gid(group)
            if uid is not None and gid is not None:
                os.chown(tmp, uid, gid)  # the new version appears with its owner, at once
            os.replace(tmp, p)
    _ensure_meta(t, r, path, mode, owner, group)


def _ensure_meta(t: Target, r: Report, path: str, mode: int, owner: str, group: str) -> None:
    p = t(path)
    if r.dry and not p.exists():
        return  # a check run: the step that would make it reported that
    st = p.stat()
    uid, gid = t.uid(owner), t.gid(group)
    if uid is None or gid is None:
        if r.dry:  # the account steps would create them
            r.changed(f"{path} owned by {owner}:{group}")
            return
        raise InstallError(f"{owner}:{group} unknown on the target: the account steps failed")
    if (st.st_uid, st.st_gid) != (uid, gid) and r.act(f"{path} owned by {owner}:{group}"):
        os.chown(p, uid, gid)
    if st.st_mode & 0o7777 != mode and r.act(f"{path} mode {mode:04o}"):
        os.chmod(p, mode)
    r.ok(path)


def ensure_symlink(t: Target, r: Report, path: str, points_to: str) -> None:
    p = t(path)
    if p.is_symlink() and os.readlink(p) == points_to:
        r.ok(path)
        return
    if not r.act(f"{path} -> {points_to}"):
        return
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.is_symlink() or p.exists():
        p.unlink()
    p.symlink_to(points_to)


def remove(t: Target, r: Report, path: str) -> None:
    p = t(path)
    if (p.is_symlink() or p.is_file()) and r.act(f"removed {path}"):
        p.unlink()
    elif p.is_dir() and not p.is_symlink() and r.act(f"removed {path}"):
        shutil.rmtree(p)


# -- the appliance's steps ----------------------------------------------------------------------
def accounts(t: Target, r: Report) -> None:
    prefix = ["--prefix", str(t.root)] if t.prefixed else []
    for group in (GROUP, OPERATORS):
        if t.gid(group) is None and r.act(f"group {group}"):
            run(["groupadd", *prefix, "--system", group])
    if t.uid(USER) is None and r.act(f"user {USER}"):
        home = ["--home-dir", "/var/lib/ovtui", "--no-create-home", "--shell", "/usr/sbin/nologin"]
        run(["useradd", *prefix, "--system", "--gid", GROUP, *home, USER])
    if USER not in t.members(OPERATORS) and r.act(f"{USER} in group {OPERATORS}"):
        # The engine gives the API socket to ovtui-operators (api.socket_group): it must be in it.
        run(["usermod", *prefix, "--append", "--groups", OPERATORS, USER])


def _app_files() -> Iterator[tuple[str, Path]]:
    for name in APP_FILES:
        yield name, SOURCE / name
    for top in APP_DIRS:
        for path in sorted((SOURCE / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                yield str(path.relative_to(SOURCE)), path


def _source_digest(pip_args: list[str]) -> str:
    h = hashlib.sha256(json.dumps(pip_args).encode())
    for name, path in _app_files():
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def application(t: Target, r: Report, pip_args: list[str]) -> None:
    """/opt/ovtui/venv with this checkout installed (not editable), plus /usr/local/bin/ovtui."""
    venv, stamp = t("/opt/ovtui/venv"), t("/opt/ovtui/.installed")
    digest = _source_digest(pip_args)
    if not (venv / "bin" / "python").exists() and r.act("venv /opt/ovtui/venv"):
        run([PYTHON, "-m", "venv", str(venv)])
    if (
        not stamp.exists()
        or stamp.read_text().strip() != digest
        or not (venv / "bin/ovtui").exists()
    ) and r.act("ovtui installed into /opt/ovtui/venv"):
        with tempfile.TemporaryDirectory(prefix="ovtui-install-") as tmp:
            # A copy: building in the checkout would leave build/ and *.egg-info in it.
            for name, path in _app_files():
                dest = Path(tmp) / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)
            pip = [str(venv / "bin/python"), "-m", "pip", "install", "--no-cache-dir", "--quiet"]
            run([*pip, *pip_args, "--upgrade", tmp])
        if t.prefixed:
            _relocate(venv, "/opt/ovtui/venv")
        stamp.write_text(digest + "\n")
    ensure_file(t, r, "/opt/ovtui/README.md", (SOURCE / "README.md").read_bytes())
    ensure_symlink(t, r, "/usr/local/bin/ovtui", "/opt/ovtui/venv/bin/ovtui")


def _relocate(venv: Path, final: str) -> None:
    """Scripts (shebangs, activate) name the venv where pip saw it (<root>/opt/...): fix that."""
    seen, wanted = str(venv).encode(), final.encode()
    for script in (venv / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            data = script.read_bytes()
            if seen in data:
                script.write_bytes(data.replace(seen, wanted))


def config(t: Target, r: Report, given: bytes | None = None) -> None:
    """The example config once (never overwritten), or `given` (--config-file: the operator's
    own, e.g. from the Ansible role) whenever it differs, validated by the installed ovtui."""
    ensure_dir(t, r, "/etc/ovtui", 0o750, "root", GROUP)
    if given is not None:
        _validate_config(t, given)
        ensure_file(t, r, "/etc/ovtui/ovtui.toml", given, 0o640, "root", GROUP)
    else:
        example = (HERE / "ovtui.example.toml").read_text()
        # The appliance's socket group: the sshd snippet lets ovtui-operators into the dashboard.
        example = example.replace('# socket_group = "ovtui"', f'socket_group = "{OPERATORS}"')
        ensure_file(
            t, r, "/etc/ovtui/ovtui.toml", example.encode(), 0o640, "root", GROUP,
            keep_existing=True,
        )  # fmt: skip
    users = t("/etc/ovtui/local-users.toml")
    if not users.exists() and r.act(
        "/etc/ovtui/local-users.toml: break-glass account admin (password in "
        "/etc/ovtui/admin.password)"
    ):
        sys.path.insert(0, str(SOURCE))
        from auth.local_users import LocalUser, write_local_users
        from auth.passwords import hash_password

        password = secrets.token_urlsafe(18)
        secret = "/etc/ovtui/admin.password"
        ensure_file(t, r, secret, password.encode() + b"\n", 0o600)
        write_local_users(
            users, [LocalUser("admin", hash_password(password), frozenset({"SuperUser"}))]
        )
    _ensure_meta(t, r, "/etc/ovtui/local-users.toml", 0o600, USER, GROUP)


def _validate_config(t: Target, text: bytes) -> None:
    """Loads `text` with the venv's ovtui (the version that will read it), as the engine would;
    under --check before the venv exists there is nothing to load it with (a real run checks)."""
    python = t("/opt/ovtui/venv/bin/python")
    if not python.exists():
        return
    with tempfile.NamedTemporaryFile(suffix=".toml") as tmp:
        tmp.write(text)
        tmp.flush()
        check = "import sys; from ovtui.config.load import load_config; load_config(sys.argv[1])"
        result = subprocess.run(
            [str(python), "-c", check, tmp.name], capture_output=True, text=True, check=False
        )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        problem = "\n".join(lines[-12:]).replace(tmp.name, "--config-file")
        raise InstallError(
            f"--config-file is not a valid ovtui config (kept the old one):\n{problem}"
        )


def state(t: Target, r: Report) -> None:
    ensure_dir(t, r, "/var/lib/ovtui", 0o700, USER, GROUP)


def integrations(t: Target, r: Report) -> None:
    """sshd snippet, log rotation, Prometheus and Grafana, the systemd unit (enabled)."""
    ensure_file(
        t,
        r,
        "/etc/ssh/sshd_config.d/ovtui-dashboard.conf",
        (HERE / "sshd/ovtui-dashboard.conf").read_bytes(),
    )
    ensure_file(t, r, "/etc/logrotate.d/ovtui", (HERE / "logrotate/ovtui").read_bytes())
    prom = HERE / "prometheus"
    ensure_file(
        t, r, "/usr/share/ovtui/prometheus/prometheus.yml", (prom / "prometheus.yml").read_bytes()
    )
    for rules in sorted((prom / "rules").glob("*.yml")):
        ensure_file(t, r, f"/etc/prometheus/rules/{rules.name}", rules.read_bytes())
    _prometheus_config(t, r, (prom / "prometheus.yml").read_bytes())
    graf = HERE / "grafana"
    for kind in ("dashboards", "datasources"):
        ensure_file(
            t,
            r,
            f"/etc/grafana/provisioning/{kind}/ovtui.yaml",
            (graf / "provisioning" / kind / "ovtui.yaml").read_bytes(),
        )
    for board in sorted((graf / "dashboards").glob("*.json")):
        ensure_file(t, r, f"/usr/share/ovtui/grafana/dashboards/{board.name}", board.read_bytes())
    ensure_file(t, r, f"/etc/systemd/system/{UNIT}", (HERE / "systemd" / UNIT).read_bytes())
    # What `systemctl enable` does for WantedBy=multi-user.target; works without systemd running.
    ensure_symlink(
        t, r, f"/etc/systemd/system/multi-user.target.wants/{UNIT}", f"/etc/systemd/system/{UNIT}"
    )


def _prometheus_config(t: Target, r: Report, ours: bytes) -> None:
    path = t("/etc/prometheus/prometheus.yml")
    if path.exists() and path.read_bytes() != ours:
        if b"job_name: ovtui" in path.read_bytes():
            r.ok("/etc/prometheus/prometheus.yml scrapes ovtui already (kept)")
            return
        saved = path.with_name("prometheus.yml.before-ovtui")
        if not saved.exists() and r.act(
            f"previous /etc/prometheus/prometheus.yml kept as {saved.name}"
        ):
            shutil.copy2(path, saved)
    ensure_file(t, r, "/etc/prometheus/prometheus.yml", ours)


def packages(r: Report) -> None:
    """What install.sh did with apt before this script ran (it passes the names on)."""
    names = os.environ.get("OVTUI_INSTALL_APT_MISSING", "").split()
    if names:
        r.changed(f"Debian packages {' '.join(names)}")  # installed, or (--check) to install


def systemd_running(t: Target) -> bool:
    return not t.prefixed and Path("/run/systemd/system").is_dir()


def install(
    t: Target,
    pip_args: list[str],
    start: bool,
    quiet: bool = False,
    *,
    dry: bool = False,
    given_config: bytes | None = None,
) -> Report:
    r = Report(quiet=quiet, dry=dry)
    packages(r)
    accounts(t, r)
    application(t, r, pip_args)
    config(t, r, given_config)
    state(t, r)
    integrations(t, r)
    if systemd_running(t):
        if r.changes and not dry:
            run(["systemctl", "daemon-reload"])
        if start:
            active = subprocess.run(["systemctl", "is-active", "--quiet", UNIT], check=False)
            if r.changes or active.returncode != 0:
                verb = "restart" if r.changes else "start"
                if r.act(f"{verb}ed {UNIT}"):
                    run(["systemctl", verb, UNIT])
    elif start:
        r.notes.append(
            "systemd is not running here: the unit is installed and enabled, not started"
        )
    return r


def uninstall(t: Target, purge: bool, quiet: bool = False, *, dry: bool = False) -> Report:
    r = Report(quiet=quiet, dry=dry)
    if systemd_running(t) and not dry:
        subprocess.run(["systemctl", "disable", "--now", UNIT], capture_output=True, check=False)
    for path in (
        f"/etc/systemd/system/multi-user.target.wants/{UNIT}",
        f"/etc/systemd/system/{UNIT}",
        "/usr/local/bin/ovtui",
        "/opt/ovtui",
        "/etc/ssh/sshd_config.d/ovtui-dashboard.conf",
        "/etc/logrotate.d/ovtui",
        "/usr/share/ovtui",
        "/etc/grafana/provisioning/dashboards/ovtui.yaml",
        "/etc/grafana/provisioning/datasources/ovtui.yaml",
        *(f"/etc/prometheus/rules/{p.name}" for p in (HERE / "prometheus/rules").glob("*.yml")),
    ):
        remove(t, r, path)
    kept = ["/etc/ovtui", "/var/lib/ovtui", f"user {USER}"]
    if purge:
        remove(t, r, "/var/lib/ovtui")
        remove(t, r, "/etc/ovtui")
        prefix = ["--prefix", str(t.root)] if t.prefixed else []
        if t.uid(USER) is not None and r.act(f"removed user {USER}"):
            run(["userdel", *prefix, USER])
        for group in (OPERATORS, GROUP):
            if t.gid(group) is not None and r.act(f"removed group {group}"):
                run(["groupdel", *prefix, group])
    else:
        r.notes.append(f"kept {', '.join(kept)} (the state and config): --purge removes them")
    return r


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="install.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="/", help="install into this directory as if it were /")
    parser.add_argument("--pip-args", default="", help="extra pip arguments, e.g. an offline index")
    parser.add_argument("--start", action="store_true", help="start (or restart) the engine")
    parser.add_argument("--uninstall", action="store_true", help="remove the appliance")
    parser.add_argument(
        "--purge", action="store_true", help="with --uninstall: state and config too"
    )
    parser.add_argument("--json", action="store_true", help="print what was done as JSON")
    parser.add_argument(
        "--check", action="store_true", help="say what would change; change nothing"
    )
    parser.add_argument(
        "--config-file",
        type=Path,
        help="install this file (- : standard input) as /etc/ovtui/ovtui.toml (validated first; "
        "replaces a different one)",
    )
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("install.sh: run as root (it creates users and system files)", file=sys.stderr)
        return 1
    if args.purge and not args.uninstall:
        print("install.sh: --purge goes with --uninstall", file=sys.stderr)
        return 2
    if args.config_file and args.uninstall:
        print("install.sh: --config-file goes with an install, not --uninstall", file=sys.stderr)
        return 2
    target = Target(Path(args.root).resolve())
    try:
        if args.uninstall:
            report = uninstall(target, args.purge, args.json, dry=args.check)
        else:
            given = None
            if args.config_file:  # "-": standard input (the role passes it so, no temp file)
                source = sys.stdin.buffer if str(args.config_file) == "-" else None
                given = source.read() if source else args.config_file.read_bytes()
            report = install(
                target, args.pip_args.split(), args.start, args.json,
                dry=args.check, given_config=given,
            )  # fmt: skip
    except (InstallError, OSError) as exc:
        print(f"install.sh: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"changed": report.changes, "notes": report.notes}))
        return 0
    for note in report.notes:
        print(note)
    would = " would be made (--check: nothing was)" if args.check else ""
    print(f"{len(report.changes)} change(s){would}" if report.changes else "nothing to change")
    return 0


if __name__ == "__main__":
    sys.exit(main())
