"""What an operator asks for when a VM is made: pure data, checked elsewhere."""

from __future__ import annotations

from dataclasses import dataclass, field

from ovtui.provision.cloud_init import CloudInit


@dataclass(frozen=True, slots=True)
class DiskSpec:
    domain: str  # storage domain
    size_bytes: int
    format: str = "qcow2"  # qcow2 | raw
    allocation: str = "thin"  # thin | preallocated


@dataclass(frozen=True, slots=True)
class NicSpec:
    """Minimal on purpose: the networks room (branch net) owns logical networks; a NIC here is
    a libvirt network or a host bridge by name, virtio, with a MAC libvirt chooses."""

    source: str
    type: str = "bridge"  # bridge | network
    model: str = "virtio"


@dataclass(frozen=True, slots=True)
class VmSpec:
    name: str
    cluster: str
    vcpus: int = 1
    memory_mib: int = 512
    disks: tuple[DiskSpec, ...] = ()
    nics: tuple[NicSpec, ...] = ()
    description: str = ""
    ha: bool = False
    ha_priority: int = 0
    pinned: bool = False
    migratable: bool = True
    affinity_group: str = ""
    anti_affinity_group: str = ""
    template: str = "Blank"
    thin: bool = True  # from a template: qcow2 overlays on its volumes (else full copies)
    host: str | None = None  # None: the scheduler chooses
    cloud_init: CloudInit | None = None  # a NoCloud seed attached as a disk or CD-ROM
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Copy:
    """A volume a new VM's disk is made from: a thin overlay on it, or a full copy."""

    domain: str
    volume: str
    format: str
    thin: bool
