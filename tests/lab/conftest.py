"""Fixtures for tests against a real lab: libvirtd hosts with QEMU guests on this machine.

`lab` is module-scoped: bringing a lab up costs seconds, so the tests of one module share it and
must leave it as they found it (hosts running, guests where they started). It comes down in the
fixture's teardown whatever happened, and `down` kills every process it started.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ovtui.lab import Lab
from ovtui.lab.conn import quiet_libvirt

NEEDS_ROOT = "the lab starts libvirtd and QEMU in new namespaces: run the slow tests as root"


def lab_up(hosts: int, guests: int, bmc: bool = False) -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.skip(NEEDS_ROOT)
    quiet_libvirt()
    # A short root: libvirt's unix socket paths must fit in 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="ovtui-lab-", dir="/tmp"))
    lab = Lab(root=root)
    try:
        lab.up(hosts=hosts, guests=guests, bmc=bmc)
        yield lab
    finally:
        lab.down()


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """Two hosts, three guests: vm1 and vm3 on h1, vm2 on h2, all idle."""
    yield from lab_up(hosts=2, guests=3)
