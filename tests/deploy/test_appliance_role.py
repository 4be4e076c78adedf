"""The Ansible role ovtui.ovtui.appliance, run for real with ansible-playbook on localhost
(connection local) into a scratch root: it unpacks a tarball of this checkout and calls the
installer (appliance/install.sh --json), so it is changed exactly when the installer changed
something; in check mode the installer runs with --check and nothing on disk moves.

As in test_installer.py (whose scratch root this one stays away from), tests must not reach
PyPI: ovtui goes into the venv with --no-deps from the machine's local index, and the venv
borrows the development venv's packages through a .pth (the config validation imports ovtui).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.test_installer import DEV_SITE, LOCAL_INDEX, REPO
from tests.ovirt.ansible_run import BIN, ansible_env
from tests.ovirt.collection import build_and_install

PLAYBOOK = Path(__file__).with_name("appliance_role_playbook.yml")
SHIPPED = ("appliance", "ovtui", "auth", "collectors", "policies", "pyproject.toml", "README.md")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the installer creates users: needs root"),
]


@dataclass
class Run:
    ok: int
    changed: int
    failed: bool
    report: dict
    output: str


@dataclass
class Target:
    root: Path
    archive: Path
    collections: Path
    out: Path

    def play(self, check: bool = False, **role_vars: object) -> Run:
        extra = {
            "ovtui_appliance_root": str(self.root),
            "ovtui_appliance_archive": str(self.archive),
            "ovtui_appliance_source": str(self.root / "usr/local/src/ovtui"),
            "ovtui_appliance_pip_args": f"--no-deps --index-url file://{LOCAL_INDEX}",
            "out": str(self.out),
            **role_vars,
        }
        self.out.unlink(missing_ok=True)
        env = ansible_env({"ANSIBLE_COLLECTIONS_PATH": str(self.collections)})
        env.pop("PYTHONPATH", None)  # the installed venv must not see this checkout
        args = [str(BIN / "ansible-playbook"), "-i", "localhost,", str(PLAYBOOK), "-e",
                json.dumps(extra), *(["--check"] if check else [])]  # fmt: skip
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=900)
        recap = re.search(r"localhost\s*: ok=(\d+)\s+changed=(\d+)", done.stdout)
        assert recap, done.stdout[-3000:] + done.stderr[-2000:]
        report = json.loads(self.out.read_text()) if self.out.exists() else {}
        return Run(int(recap[1]), int(recap[2]), done.returncode != 0, report,
                   done.stdout[-4000:] + done.stderr[-2000:])  # fmt: skip


def _archive(path: Path) -> Path:
    """A tarball of what the installer needs from this checkout (caches left out)."""

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        return None if "__pycache__" in info.name or info.name.endswith(".pyc") else info

    with tarfile.open(path, "w:gz") as tar:
        for name in SHIPPED:
            tar.add(REPO / name, arcname=name, filter=keep)
    return path


def _tree(root: Path) -> dict[str, tuple[int, int, float]]:
    skip = (root / "opt/ovtui/venv", root / "usr/local/src")
    return {
        str(p.relative_to(root)): (p.lstat().st_mode, p.lstat().st_size, p.lstat().st_mtime)
        for p in root.rglob("*")
        if not any(p.is_relative_to(s) for s in skip) and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    if not LOCAL_INDEX.is_dir():
        pytest.skip(f"no local package index {LOCAL_INDEX}: the venv step would need PyPI")
    base = Path(os.path.realpath(os.environ.get("TMPDIR", "/tmp")))
    root = base / f"ovr-{os.getpid()}"  # not test_installer's ovi-*
    shutil.rmtree(root, ignore_errors=True)
    (root / "etc").mkdir(parents=True)
    for name in ("passwd", "group", "shadow", "gshadow", "login.defs", "nsswitch.conf"):
        if Path("/etc", name).exists():
            shutil.copy2(Path("/etc", name), root / "etc" / name)
    work = tmp_path_factory.mktemp("role")
    collections = build_and_install(work / "collections")
    yield Target(root, _archive(work / "ovtui.tar.gz"), collections, work / "report.json")
    shutil.rmtree(root, ignore_errors=True)


def test_the_role_installs_idempotently_and_check_mode_changes_nothing(target: Target) -> None:
    empty = _tree(target.root)
    dry = target.play(check=True)
    assert not dry.failed, dry.output
    assert dry.changed >= 1
    assert _tree(target.root) == empty  # not even the source directory was made

    first = target.play()
    assert not first.failed, first.output
    assert "user ovtui" in first.report["changes"]
    assert "ovtui installed into /opt/ovtui/venv" in first.report["changes"]
    assert (target.root / "etc/ovtui/ovtui.toml").exists()
    site = next((target.root / "opt/ovtui/venv/lib").glob("python3*/site-packages"))
    (site / "zz_test_dependencies.pth").write_text(f"{DEV_SITE}\n")

    before = _tree(target.root)
    again = target.play()
    assert not again.failed, again.output
    assert (again.changed, again.report["changes"]) == (0, [])
    assert _tree(target.root) == before
    dry_again = target.play(check=True)
    assert (dry_again.changed, dry_again.report["changes"]) == (0, [])


def test_the_config_option_is_validated_then_written_once(target: Target) -> None:
    path = target.root / "etc/ovtui/ovtui.toml"
    original = path.read_text()
    wanted = original.replace("[api]", "# managed by Ansible\n[api]", 1)
    assert wanted != original

    dry = target.play(check=True, ovtui_appliance_config=wanted)
    assert not dry.failed, dry.output
    assert dry.report["changes"] == ["wrote /etc/ovtui/ovtui.toml"] and dry.changed == 1
    assert path.read_text() == original

    done = target.play(ovtui_appliance_config=wanted)
    assert not done.failed, done.output
    assert done.report["changes"] == ["wrote /etc/ovtui/ovtui.toml"]
    assert path.read_text() == wanted
    assert (path.stat().st_mode & 0o777) == 0o640
    again = target.play(ovtui_appliance_config=wanted)
    assert (again.changed, again.report["changes"]) == (0, [])

    bad = target.play(ovtui_appliance_config=wanted + "\n[api.bogus_section]\nx = 1\n")
    assert bad.failed
    assert "--config-file is not a valid ovtui config (kept the old one)" in bad.output
    assert "bogus_section" in bad.output
    assert path.read_text() == wanted


def test_state_absent_in_check_mode_then_for_real(target: Target) -> None:
    dry = target.play(check=True, ovtui_appliance_state="absent")
    assert not dry.failed, dry.output
    assert "removed /opt/ovtui" in dry.report["changes"]
    assert (target.root / "opt/ovtui/venv").is_dir()
    gone = target.play(ovtui_appliance_state="absent")
    assert not gone.failed, gone.output
    assert not (target.root / "opt/ovtui").exists()
    assert (target.root / "etc/ovtui/ovtui.toml").exists()  # kept: purge was not asked
    assert target.play(ovtui_appliance_state="absent").changed == 0
