"""`ovtui demo --no-tui` serves the oVirt subset on loopback TLS and prints the URL and CA file;
the SDK works with exactly what it prints."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import short_tempdir

sdk = pytest.importorskip("ovirtsdk4")


def test_demo_prints_an_ovirt_url_and_ca_the_sdk_can_use() -> None:
    root = short_tempdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ovtui.cli.main", "demo", "--no-tui", "--dir", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        deadline, line = time.monotonic() + 60, ""
        while "oVirt API" not in line:
            assert time.monotonic() < deadline and proc.poll() is None, "no oVirt line printed"
            line = proc.stdout.readline()
        found = re.search(r"(https://127\.0\.0\.1:\d+/ovirt-engine/api).*CA file (\S+)", line)
        assert found, line
        url, ca = found.groups()
        conn = sdk.Connection(url=url, username="admin@internal", password="demo", ca_file=ca)
        with conn:
            vms = conn.system_service().vms_service().list()
            assert len(vms) == 121
            hosts = conn.system_service().hosts_service().list(search="name=kvm-a01")
            assert [h.name for h in hosts] == ["kvm-a01"]
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(30)
