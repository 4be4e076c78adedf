"""Import: an image (qcow2, raw, vmdk, vdi) or an OVA becomes disks of a new VM. The engine
reads files only under the configured import_dir, converts each disk to qcow2 with `qemu-img
convert` (no shell, timeout) into a temporary directory, and provisioning uploads it into a
volume. Everything temporary is removed whatever happens."""

from __future__ import annotations

import json
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from ovtui.fleet.errors import FleetError
from ovtui.provision.ovf import OvfError, OvfVm, parse

FORMATS = ("qcow2", "raw", "vmdk", "vdi")
TIMEOUT_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class Prepared:
    name: str  # from the OVF, else the file's stem
    vcpus: int | None
    memory_mib: int | None
    disks: tuple[Path, ...]  # converted qcow2 files, in order


def inside(import_dir: Path | None, source: str) -> Path:
    if import_dir is None:
        raise FleetError(
            "import is off: set [provision] import_dir to the directory the engine may read "
            "images from",
            kind="invalid",
        )
    base = import_dir.resolve()
    path = (base / source).resolve()
    if not path.is_relative_to(base):
        raise FleetError(f"{source!r} is outside the import directory {base}", kind="invalid")
    if not path.is_file():
        raise FleetError(f"no file {source!r} in the import directory {base}", kind="invalid")
    return path


def image_format(path: Path) -> str:
    done = subprocess.run(
        ["qemu-img", "info", "--output=json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise FleetError(
            f"{path.name} is not a disk image qemu-img can read: {done.stderr.strip()[:200]}",
            kind="invalid",
        )
    fmt = str(json.loads(done.stdout).get("format", ""))
    if fmt not in FORMATS:
        raise FleetError(
            f"{path.name} is a {fmt} image: ovtui imports {', '.join(FORMATS)} (and OVA)",
            kind="invalid",
        )
    return fmt


def convert(src: Path, fmt: str, out: Path) -> Path:
    try:
        done = subprocess.run(
            ["qemu-img", "convert", "-f", fmt, "-O", "qcow2", str(src), str(out)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise FleetError(
            f"converting {src.name} took over {TIMEOUT_SECONDS:g} s", kind="timeout"
        ) from None
    if done.returncode != 0:
        raise FleetError(
            f"qemu-img could not convert {src.name}: {done.stderr.strip()[:200]}", kind="invalid"
        )
    return out


def _ova(path: Path, work: Path) -> tuple[OvfVm, list[Path]]:
    try:
        with tarfile.open(path) as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}
            ovfs = [n for n in members if n.lower().endswith(".ovf")]
            if not ovfs:
                raise FleetError(f"{path.name} holds no .ovf descriptor", kind="invalid")
            f = tar.extractfile(members[ovfs[0]])
            assert f is not None
            vm = parse(f.read().decode("utf-8", errors="replace"))
            files = []
            for i, href in enumerate(vm.disks):
                if href not in members:
                    raise FleetError(
                        f"{path.name}: its OVF names disk {href!r}, which the OVA does not hold",
                        kind="invalid",
                    )
                target = work / f"ova-disk{i}"
                src = tar.extractfile(members[href])
                assert src is not None
                with open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
                files.append(target)
    except tarfile.TarError as exc:
        raise FleetError(
            f"{path.name} is not a readable OVA (tar): {exc}", kind="invalid"
        ) from None
    except OvfError as exc:
        raise FleetError(f"{path.name}: {exc}", kind="invalid") from None
    return vm, files


def prepare(path: Path, work: Path) -> Prepared:
    """Blocking (run off the event loop): the disks converted into `work`."""
    if path.suffix.lower() == ".ova":
        vm, files = _ova(path, work)
        disks = [convert(f, image_format(f), work / f"disk{i}.qcow2") for i, f in enumerate(files)]
        return Prepared(vm.name, vm.vcpus, vm.memory_mib, tuple(disks))
    fmt = image_format(path)
    return Prepared(path.stem, None, None, (convert(path, fmt, work / "disk0.qcow2"),))
