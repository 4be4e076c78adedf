"""`lab down` leaves nothing: no process it started, no namespace, no mount, no file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from ovtui.lab import Lab, procs
from ovtui.lab.conn import quiet_libvirt
from tests.lab.conftest import NEEDS_ROOT

pytestmark = pytest.mark.slow


def _mentions(root: Path) -> list[int]:
    """Processes whose command line names the lab root."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if entry.isdigit() and str(root).encode() in cmdline:
            ref = procs.ref_of(int(entry))
            if ref is not None and procs.alive(ref):
                found.append(int(entry))
    return found


def test_down_leaves_nothing_behind() -> None:
    if os.geteuid() != 0:
        pytest.skip(NEEDS_ROOT)
    quiet_libvirt()
    root = Path(tempfile.mkdtemp(prefix="ovtui-lab-", dir="/tmp"))
    lab = Lab(root=root)
    try:
        lab.up(hosts=1, guests=1)
        st = lab.state()
        h1 = st.hosts["h1"]
        assert h1.init is not None and h1.outer is not None and h1.pid_ns is not None
        members = [r for r in (procs.ref_of(p) for p in lab.status().host("h1").pids) if r]
        assert len(members) >= 3  # init, libvirtd, QEMU
        mnt_ns = procs.ns_inode(h1.init.pid, "mnt")
        assert mnt_ns is not None and mnt_ns != procs.ns_inode(os.getpid(), "mnt")
        # The host's bind mounts exist only in its own mount namespace.
        assert str(root) not in Path("/proc/self/mountinfo").read_text()
        assert str(root) in Path(f"/proc/{h1.init.pid}/mountinfo").read_text()
    finally:
        lab.down()
    assert not [r.pid for r in [h1.init, h1.outer, *members] if procs.alive(r)]
    assert procs.pids_in_ns("pid", h1.pid_ns) == []
    assert procs.pids_in_ns("mnt", mnt_ns) == []
    assert _mentions(root) == []
    assert str(root) not in Path("/proc/self/mountinfo").read_text()
    assert not root.exists()
    # A second down is harmless.
    Lab(root=root).down()
    assert not root.exists()
