"""Building ovtui.ovtui (appliance/ansible) and laying it out as ansible-test needs it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tests.ovirt.ansible_run import run

SOURCE = Path(__file__).resolve().parents[2] / "appliance" / "ansible"
# ansible-test keeps its per-test virtualenvs under $HOME/.ansible/test: one HOME of its own,
# kept between runs so that the sanity requirements are installed once per machine.
ANSIBLE_TEST_HOME = Path(tempfile.gettempdir()) / "ovtui-ansible-test-home"


def build_and_install(root: Path) -> Path:
    """`ansible-galaxy collection build`, then install the tarball under root/ansible_collections;
    returns root (a collections path)."""
    out = root / "dist"
    done = run("ansible-galaxy", "collection", "build", "--output-path", str(out), str(SOURCE))
    assert done.returncode == 0, done.stdout + done.stderr
    [tarball] = out.glob("ovtui-ovtui-*.tar.gz")
    done = run("ansible-galaxy", "collection", "install", "-p", str(root), str(tarball))
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def ansible_test_home() -> Path:
    cache = ANSIBLE_TEST_HOME / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(__file__).with_name("get_pip_standin.py"), cache / "get_pip_24_2.py")
    return ANSIBLE_TEST_HOME
