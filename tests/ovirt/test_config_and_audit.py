"""`[api.ovirt]` is checked like every key, and refusals on the oVirt paths are audited."""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ovtui.api.ovirt.ids import stable_id
from ovtui.testdriver_fleet import synthetic_spec, write_fleet
from tests.conftest import short_tempdir
from tests.ovirt.conftest import OvirtEngine


def _engine_exit(extra: str) -> subprocess.CompletedProcess[str]:
    root = short_tempdir()
    config = write_fleet(synthetic_spec(1, 1, clusters=1), root)
    config.write_text(config.read_text() + extra)
    return subprocess.run(
        [sys.executable, "-m", "ovtui.cli.main", "--config", str(config), "engine"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("\n[api.ovirt]\nenabled = true\n", "ovirt.enabled needs tcp"),
        ("\n[api.ovirt]\nenabeld = true\n", "api.ovirt.enabeld: unknown key"),
        ('\n[api.ovirt]\nusers = { alice = "a" }\n', "an oVirt user name is NAME@PROFILE"),
    ],
)
def test_a_bad_ovirt_section_stops_the_engine_with_exit_2(extra: str, message: str) -> None:
    done = _engine_exit(extra)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr


def test_the_subset_is_not_served_unless_enabled(tmp_path: Path) -> None:
    from ovtui.config import load_config

    config = load_config(write_fleet(synthetic_spec(1, 1, clusters=1), short_tempdir()))
    assert config.api.ovirt.enabled is False
    assert config.api.ovirt.signin_name("admin@internal") == "admin"
    assert config.api.ovirt.signin_name("admin@corp") is None  # profile not listed


def _client(engine: OvirtEngine) -> httpx.Client:
    base = engine.url.removesuffix("/ovirt-engine/api")
    return httpx.Client(
        base_url=base,
        verify=ssl.create_default_context(cafile=str(engine.ca)),
        headers={"Version": "4"},
    )


def test_refusals_answer_faults_and_are_audited(ovirt_engine: OvirtEngine) -> None:
    log = ovirt_engine.live.engine.audit_log
    with _client(ovirt_engine) as client:
        before = log.last_seq
        resp = client.get("/ovirt-engine/api/vms", headers={"Accept": "application/xml"})
        assert resp.status_code == 401 and resp.headers["content-type"].startswith(
            "application/xml"
        )
        assert resp.text.startswith("<fault><reason>Unauthorized</reason>")
        token = client.post(
            "/ovirt-engine/sso/oauth/token",
            data={"grant_type": "password", "scope": "ovirt-app-api",
                  "username": "admin@internal", "password": "demo"},
        ).json()["access_token"]  # fmt: skip
        auth = {"Authorization": f"Bearer {token}"}
        missing = client.get(f"/ovirt-engine/api/hosts/{stable_id('host', 'nope')}", headers=auth)
        assert missing.status_code == 404 and "<fault>" in missing.text
        vm = ovirt_engine.live.engine.snapshot().vms[0].uuid
        outside = client.get(f"/ovirt-engine/api/vms/{vm}/snapshots", headers=auth)
        assert outside.status_code == 404 and "not in ovtui's oVirt API subset" in outside.text
        bad = client.get("/ovirt-engine/api/hosts", params={"search": "memory>1"}, headers=auth)
        assert bad.status_code == 400 and "memory&gt;1" in bad.text
    records = log.read(since_seq=before)
    refused = [(r["result"], r["params"]["status"]) for r in records if "status" in r["params"]]
    assert refused == [("denied", 401), ("refused", 404), ("refused", 404), ("refused", 400)]
    assert [r["action"] for r in records].count("login") == 1
    assert "unsupported search term 'memory&gt;1'" in records[-1]["detail"]


def test_large_answers_are_gzipped_when_asked(ovirt_engine: OvirtEngine) -> None:
    """The SDK asks for gzip; a large list sent as-is made its pycurl loop stall ~1 s."""
    with _client(ovirt_engine) as client:
        token = client.post(
            "/ovirt-engine/sso/oauth/token",
            data={"grant_type": "password", "username": "admin@internal", "password": "demo"},
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
        vms = client.get("/ovirt-engine/api/vms", headers=headers)
        assert vms.headers.get("content-encoding") == "gzip"
        assert vms.text.count("<vm ") == len(ovirt_engine.live.engine.snapshot().vms)
        small = client.get("/ovirt-engine/api/datacenters", headers=headers)
        assert "content-encoding" not in small.headers and "<data_centers>" in small.text
