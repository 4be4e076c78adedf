"""The guest image: Debian's kernel and busybox-static in a tiny initramfs, built once and cached.

The cache key covers the kernel and busybox package versions and the init script, so changing the
script rebuilds the image while a second lab (or a test run) reuses it without touching apt.

Under TCG, decompressing Debian's xz-compressed bzImage costs a guest about 2.5 s of CPU at every
boot. The kernel is built with PVH, so QEMU can load the uncompressed ELF directly: the image
holds that vmlinux, unpacked once here, and a guest reaches userspace in about 1.9 s, not 4.5 s.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import lzma
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ovtui.lab import cpio, guest_net, guestinit
from ovtui.lab.packages import Say, apt_get

KERNEL_META = "linux-image-amd64"
BUSYBOX = "busybox-static"
_MODULES = (
    "drivers/acpi/button.ko",
    "drivers/input/evdev.ko",
    # virtio-blk (hot-plugged disks), loaded by the init script in this order
    "drivers/virtio/virtio_ring.ko",
    "drivers/virtio/virtio.ko",
    "drivers/virtio/virtio_pci_modern_dev.ko",
    "drivers/virtio/virtio_pci_legacy_dev.ko",
    "drivers/virtio/virtio_pci.ko",
    "drivers/block/virtio_blk.ko",
    # ISO9660, to read a cloud-init NoCloud seed on a virtio disk (ovtui.provision)
    "drivers/cdrom/cdrom.ko",
    "fs/isofs/isofs.ko",
    *guest_net.MODULES,  # virtio-net, on top of the virtio core above
)
_FORMAT = "2"
UNUSED_FOR = 7 * 86400.0  # seconds an image of another init script is kept unused
_XZ_MAGIC = b"\xfd7zXZ\x00"


@dataclass(frozen=True)
class GuestImage:
    kernel: Path
    initrd: Path


def _key() -> str:
    text = _FORMAT + guestinit.INIT + guestinit.POWER_BUTTON + guest_net.SCRIPT + " ".join(_MODULES)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def find_cached(cache: Path) -> GuestImage | None:
    """The newest complete image built with this init script, if any."""
    found = sorted(cache.glob(f"images/*-{_key()}/manifest.json"), key=os.path.getmtime)
    if not found:
        return None
    d = found[-1].parent
    manifest = json.loads(found[-1].read_text(encoding="utf-8"))
    with contextlib.suppress(OSError):
        os.utime(found[-1])  # in use: kept by other builds (see build)
    return GuestImage(kernel=d / manifest["file"], initrd=d / "initrd.img")


def _kernel_package() -> str:
    for attempt in range(2):
        out = subprocess.run(
            ["apt-cache", "depends", KERNEL_META], capture_output=True, text=True
        ).stdout
        m = re.search(r"Depends: (linux-image-\S+-amd64)", out)
        if m:
            return m.group(1)
        if attempt == 0:
            apt_get(["update"])  # no package lists yet
    raise RuntimeError(f"apt-cache knows no {KERNEL_META}; is a Debian mirror configured?")


def _download(pkg: str, debs: Path) -> Path:
    found = sorted(debs.glob(f"{pkg}_*.deb"))
    if not found:
        done = apt_get(["download", pkg], cwd=debs)
        found = sorted(debs.glob(f"{pkg}_*.deb"))
        if done.returncode != 0 or not found:
            raise RuntimeError(f"apt-get download {pkg} failed:\n{done.stderr}")
    return found[-1]


def _members(deb: Path, wanted: list[str]) -> dict[str, bytes]:
    """Files of a .deb whose path matches one of the regexes in wanted, read as a stream."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
        for member in tar:
            if member.isfile() and any(re.fullmatch(w, member.name) for w in wanted):
                f = tar.extractfile(member)
                assert f is not None
                found[member.name] = f.read()
    if proc.wait() != 0:
        raise RuntimeError(f"dpkg-deb could not read {deb}")
    return found


def _vmlinux(bzimage: bytes, config: bytes) -> bytes | None:
    """The uncompressed ELF kernel inside a bzImage, if the kernel can boot from it (PVH)."""
    if b"\nCONFIG_PVH=y\n" not in config:
        return None
    offset = bzimage.find(_XZ_MAGIC)
    if offset < 0:
        return None
    try:
        elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(bzimage[offset:])
    except lzma.LZMAError:
        return None
    return elf if elf.startswith(b"\x7fELF") else None


def _initrd(busybox: bytes, modules: dict[str, bytes]) -> bytes:
    entries = [
        cpio.directory(d)
        for d in ("bin", "dev", "proc", "sys", "tmp", "etc", "etc/acpi", "etc/acpi/PWRF", "lib")
    ]
    entries += [
        cpio.directory("lib/modules"),
        cpio.chardev("dev/console", 5, 1),  # init's stdio before devtmpfs is mounted
        cpio.file("bin/busybox", busybox, 0o755),
        cpio.symlink("bin/sh", "busybox"),
        cpio.file("init", guestinit.INIT.encode(), 0o755),
        cpio.file("etc/acpi/PWRF/00000080", guestinit.POWER_BUTTON.encode(), 0o755),
        cpio.file(guest_net.SCRIPT_PATH, guest_net.SCRIPT.encode(), 0o644),
    ]
    entries += [cpio.file(f"lib/modules/{name}", data) for name, data in modules.items()]
    return cpio.initramfs(entries)


@contextlib.contextmanager
def _build_lock(cache: Path) -> Iterator[None]:
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "build.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def build(cache: Path, say: Say = print) -> GuestImage:
    kpkg = _kernel_package()
    say(f"building the guest image from {kpkg} and {BUSYBOX} (cached in {cache})")
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    kernel_files = _members(
        _download(kpkg, debs),
        [r"\./boot/(vmlinuz|config)-.*"] + [rf"\./lib/modules/[^/]+/kernel/{m}" for m in _MODULES],
    )
    vmlinuz = next(v for k, v in kernel_files.items() if "/boot/vmlinuz-" in k)
    kconfig = next(v for k, v in kernel_files.items() if "/boot/config-" in k)
    vmlinux = _vmlinux(vmlinuz, kconfig)
    kernel_name = "vmlinux" if vmlinux else "vmlinuz"
    modules = {Path(k).name: v for k, v in kernel_files.items() if k.endswith(".ko")}
    if len(modules) != len(_MODULES):
        raise RuntimeError(f"{kpkg} lacks one of {_MODULES}")
    busybox = _members(_download(BUSYBOX, debs), [r"\./bin/busybox"])["./bin/busybox"]
    final = cache / "images" / f"{kpkg.removeprefix('linux-image-')}-{_key()}"
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".build-"))
    try:
        (tmp / kernel_name).write_bytes(vmlinux or vmlinuz)
        (tmp / "initrd.img").write_bytes(_initrd(busybox, modules))
        (tmp / "manifest.json").write_text(
            json.dumps({"kernel": kpkg, "file": kernel_name, "busybox": BUSYBOX, "key": _key()}),
            encoding="utf-8",
        )
        tmp.chmod(0o755)
        final.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        # Images of another init script are removed only once unused for a week (the manifest is
        # touched on each use): labs of other checkouts, or a branch's tests, may run QEMUs that
        # boot and migrate guests from their kernel file right now.
        for old in final.parent.iterdir():
            used = old / "manifest.json"
            stale = not used.exists() or time.time() - used.stat().st_mtime > UNUSED_FOR
            if old != final and stale:
                shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return GuestImage(kernel=final / kernel_name, initrd=final / "initrd.img")


def ensure_image(cache: Path, say: Say = print) -> GuestImage:
    with _build_lock(cache):
        return find_cached(cache) or build(cache, say)
