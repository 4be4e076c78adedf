"""What a lab host needs from Debian, installed only when missing (seconds with a warm mirror).

Never libvirt-daemon-system: it pulls in systemd, and this appliance's lab starts libvirtd itself.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

PACKAGES = (
    "libvirt-daemon",
    "libvirt-daemon-driver-qemu",
    "libvirt-clients",
    "qemu-system-x86",
    "qemu-utils",
    "util-linux",  # unshare, losetup
    # storage domains (ovtui.lab.storage): a userspace iSCSI target, libvirt's iscsi-direct pool
    # (libiscsi: this kernel has no SCSI initiator) and QEMU's iscsi block driver
    "tgt",
    "libvirt-daemon-driver-storage-iscsi-direct",
    "qemu-block-extra",
    "e2fsprogs",  # mkfs.ext4, which libvirt runs to format the fs domain's loop device
)
# The QEMU driver refuses to initialise without this account, even when it runs QEMU as root.
QEMU_ACCOUNT = "libvirt-qemu"
# Mount points the lab's hosts bind their own directories onto; libvirt-daemon-system would
# create them, and we do not install that.
MOUNT_POINTS = ("/run/libvirt", "/var/lib/libvirt", "/var/log/libvirt", "/var/cache/libvirt")

Say = Callable[[str], None]
_APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}


def missing_packages(packages: Sequence[str] = PACKAGES) -> list[str]:
    missing = []
    for pkg in packages:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True
        )
        if out.returncode != 0 or not out.stdout.endswith(" installed"):
            missing.append(pkg)
    return missing


def apt_get(args: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["apt-get", "-q", *args], cwd=cwd, env=_APT_ENV, capture_output=True, text=True
    )


def apt_install(packages: Sequence[str], say: Say) -> None:
    say(f"installing Debian packages: {' '.join(packages)}")
    args = ["install", "-y", "--no-install-recommends", *packages]
    if apt_get(args).returncode != 0:
        apt_get(["update"])  # a fresh machine has no package lists yet
        done = apt_get(args)
        if done.returncode != 0:
            raise RuntimeError(f"apt-get install {' '.join(packages)} failed:\n{done.stderr}")


def ensure_installed(say: Say = print) -> None:
    """Install what is missing, create the QEMU account and libvirt's mount points."""
    if os.geteuid() != 0:
        raise PermissionError("the lab runs libvirtd and QEMU as root: run it as root")
    missing = missing_packages()
    if missing:
        apt_install(missing, say)
    if subprocess.run(["getent", "group", QEMU_ACCOUNT], capture_output=True).returncode != 0:
        subprocess.run(["groupadd", "--system", QEMU_ACCOUNT], check=True)
    if subprocess.run(["getent", "passwd", QEMU_ACCOUNT], capture_output=True).returncode != 0:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--gid",
                QEMU_ACCOUNT,
                "--no-create-home",
                "--home-dir",
                "/var/lib/libvirt",
                "--shell",
                "/usr/sbin/nologin",
                QEMU_ACCOUNT,
            ],
            check=True,
        )
    for mp in MOUNT_POINTS:
        os.makedirs(mp, exist_ok=True)
