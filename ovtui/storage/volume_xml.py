"""Volume and disk XML, pure. How each disk format is asked of libvirt (notes/LAB.md):

- raw sparse: allocation 0 -> no block used until written.
- raw preallocated: allocation = capacity -> every block allocated at creation.
- qcow2 thin: allocation 0 (qcow2 ignores <allocation> without the flag anyway).
- qcow2 preallocated: allocation = capacity *and* VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA:
  qemu-img then preallocates with falloc; without the flag the file stays thin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

Format = Literal["qcow2", "raw"]
Allocation = Literal["thin", "preallocated"]
PREALLOC_METADATA = 1  # libvirt.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA (kept pure here)
EXTENSION = {"qcow2": ".qcow2", "raw": ".img"}


@dataclass(frozen=True, slots=True)
class VolumeRequest:
    name: str  # the disk's name; the volume is name + EXTENSION[format]
    capacity: int  # bytes
    format: Format = "qcow2"
    allocation: Allocation = "thin"

    @property
    def volume(self) -> str:
        return self.name + EXTENSION[self.format]

    @property
    def preallocated(self) -> bool:
        return self.allocation == "preallocated"


def volume_xml(req: VolumeRequest) -> tuple[str, int]:
    """(XML, flags) for virStoragePoolCreateXML."""
    allocation = req.capacity if req.preallocated else 0
    flags = PREALLOC_METADATA if req.preallocated and req.format == "qcow2" else 0
    xml = (
        f"<volume><name>{escape(req.volume)}</name>"
        f"<capacity unit='bytes'>{req.capacity}</capacity>"
        f"<allocation unit='bytes'>{allocation}</allocation>"
        f"<target><format type={quoteattr(req.format)}/></target></volume>"
    )
    return xml, flags


def disk_xml(pool: str, volume: str, fmt: str, target: str) -> str:
    """A virtio disk on a pool volume: the same XML means the same disk on every host."""
    return (
        "<disk type='volume' device='disk'>"
        f"<driver name='qemu' type={quoteattr(fmt)}/>"
        f"<source pool={quoteattr(pool)} volume={quoteattr(volume)}/>"
        f"<target dev={quoteattr(target)} bus='virtio'/></disk>"
    )


def next_target(used: set[str]) -> str:
    """The first free virtio device name: vda, vdb, ... vdz, vdaa, ..."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    names = [f"vd{a}" for a in letters] + [f"vd{a}{b}" for a in letters for b in letters]
    return next(n for n in names if n not in used)


def format_of_volume(volume: str) -> str:
    """What format a volume holds, from its name (ovtui names every volume it makes)."""
    return "qcow2" if volume.endswith(".qcow2") else "raw"
