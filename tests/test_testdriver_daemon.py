"""The benchmarks' test-driver daemons: hosts handed out HOSTS_PER_DAEMON to a libvirtd."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from bench import testdriver_daemon as tdd
from ovtui.config import load_config
from ovtui.testdriver_fleet import synthetic_spec, write_fleet

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not Path(tdd.LIBVIRTD).exists() or not shutil.which("setpriv"),
    reason="needs root, libvirtd and setpriv",
)


@pytest.fixture
def root() -> Iterator[Path]:
    """Under /tmp itself: the daemons run as nobody, who cannot walk into pytest's tmp_path."""
    path = Path(tempfile.mkdtemp(prefix="ovt-tdd-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_hosts_are_served_a_few_to_a_daemon_each_with_its_own_vms(root: Path) -> None:
    spec = synthetic_spec(5, 2, clusters=1, seed=2)
    config = write_fleet(spec, root)
    with tdd.TestDriverDaemon(root, hosts_per_daemon=2) as daemons:
        daemons.serve(config)
        hosts = load_config(config).hosts
        sockets = [re.search(r"socket=(\S+)", h.uri).group(1) for h in hosts]  # type: ignore[union-attr]
        assert len(daemons.pids) == 3
        assert sockets == [str(d.socket) for d in daemons.daemons for _ in range(2)][:5]
        for host, wanted in zip(hosts, spec.hosts, strict=True):
            conn = libvirt.open(host.uri)
            try:
                assert sorted(d.name() for d in conn.listAllDomains()) == sorted(
                    v.name for v in wanted.vms
                )
            finally:
                conn.close()
        assert daemons.cpu_s() > 0
        with pytest.raises(RuntimeError):
            _ = daemons.pid  # several daemons: no one pid stands for them
    assert all(d.proc is None for d in daemons.daemons)
