"""cloud-init seeds: contents (pure), and a real image built with Debian's tools and read back
with isoinfo (genisoimage's reader): label cidata, the two files, their text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ovtui.fleet.errors import FleetError
from ovtui.provision import seed
from ovtui.provision.cloud_init import CloudInit, CloudUser, meta_data, problem, user_data

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly0123456789abcdefABCDEF ops@x"


def test_contents() -> None:
    ci = CloudInit("web-1", (CloudUser("ops", (KEY,)),))
    assert meta_data(ci, "u-1") == 'instance-id: "u-1"\nlocal-hostname: "web-1"\n'
    assert user_data(ci) == (
        '#cloud-config\nhostname: "web-1"\nusers:\n  - name: "ops"\n'
        f'    ssh_authorized_keys:\n      - "{KEY}"\n'
    )
    raw = CloudInit("db", user_data="#!/bin/sh\necho hi\n")
    assert user_data(raw) == "#!/bin/sh\necho hi\n"


def test_problems() -> None:
    assert problem(CloudInit("web-1.example.org")) is None
    assert "is not a host name" in (problem(CloudInit("web_1")) or "")
    assert "is not a host name" in (problem(CloudInit("-web")) or "")
    both = CloudInit("a", (CloudUser("ops"),), user_data="x")
    assert problem(both) == "cloud-init: give users (with SSH keys) or raw user_data, not both"
    assert "lower-case letters" in (problem(CloudInit("a", (CloudUser("Root!"),))) or "")
    bad_key = CloudInit("a", (CloudUser("ops", ("not a key\nssh-rsa AAAA",)),))
    assert "is not one OpenSSH public key" in (problem(bad_key) or "")


@pytest.mark.skipif(not shutil.which("isoinfo"), reason="isoinfo (genisoimage) not installed")
def test_a_real_seed_image(tmp_path: Path) -> None:
    ci = CloudInit("web-1", (CloudUser("ops", (KEY,)),))
    data = seed.build(ci, "u-1")
    iso = tmp_path / "seed.iso"
    iso.write_bytes(data)
    pvd = subprocess.run(["isoinfo", "-d", "-i", str(iso)], capture_output=True, text=True)
    assert "Volume id: cidata" in pvd.stdout
    listing = subprocess.run(
        ["isoinfo", "-R", "-f", "-i", str(iso)], capture_output=True, text=True
    )
    assert sorted(listing.stdout.split()) == ["/meta-data", "/user-data"]
    md = subprocess.run(
        ["isoinfo", "-R", "-x", "/meta-data", "-i", str(iso)], capture_output=True, text=True
    )
    assert md.stdout == meta_data(ci, "u-1")


def test_no_tool_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed.shutil, "which", lambda _name: None)
    with pytest.raises(FleetError, match=r"neither cloud-localds .* nor genisoimage"):
        seed.build(CloudInit("a"), "u")
