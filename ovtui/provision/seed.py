"""Building a NoCloud seed image (ISO9660, volume label `cidata`) with Debian's tools: the
engine runs `cloud-localds` (cloud-image-utils), else `genisoimage`, without a shell and with a
timeout, and uploads the bytes into a volume of a storage domain (host_ops.upload)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ovtui.fleet.errors import FleetError
from ovtui.provision.cloud_init import CloudInit, meta_data, user_data

TIMEOUT_SECONDS = 30.0


def commands(out: Path, ud: Path, md: Path) -> list[list[str]]:
    """What to try, in order: the tools that are installed."""
    found = []
    if shutil.which("cloud-localds"):
        found.append(["cloud-localds", str(out), str(ud), str(md)])
    if shutil.which("genisoimage"):
        found.append(
            ["genisoimage", "-quiet", "-output", str(out), "-volid", "cidata", "-joliet",
             "-rock", str(ud), str(md)]
        )  # fmt: skip
    return found


def build(ci: CloudInit, instance_id: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="ovtui-seed-") as tmp:
        d = Path(tmp)
        ud, md, out = d / "user-data", d / "meta-data", d / "seed.iso"
        ud.write_text(user_data(ci), encoding="utf-8")
        md.write_text(meta_data(ci, instance_id), encoding="utf-8")
        tried = commands(out, ud, md)
        if not tried:
            raise FleetError(
                "cannot build a cloud-init seed: neither cloud-localds (Debian package "
                "cloud-image-utils) nor genisoimage is installed on the engine",
                kind="unavailable",
            )
        errors = []
        for cmd in tried:
            try:
                done = subprocess.run(
                    cmd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
                )
            except subprocess.TimeoutExpired:
                errors.append(f"{cmd[0]} took more than {TIMEOUT_SECONDS:g} s")
                continue
            if done.returncode == 0 and out.exists():
                return out.read_bytes()
            errors.append(f"{cmd[0]} exited {done.returncode}: {done.stderr.strip()[:200]}")
        raise FleetError("cannot build a cloud-init seed: " + "; ".join(errors), kind="hypervisor")
