"""The shared fleet model: an immutable snapshot of data centers, clusters, hosts and VMs.

Everything that reads the fleet (API, policies, exporter, TUI through the API) reads a Snapshot.
Policies import this module, so it must stay free of I/O and of every third-party library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class HostState(StrEnum):
    CONNECTING = "connecting"
    UP = "up"
    MAINTENANCE = "maintenance"
    NON_RESPONSIVE = "non_responsive"  # the connection or a call failed or timed out
    NON_OPERATIONAL = "non_operational"  # reachable but unfit for its cluster (e.g. CPU model)
    DOWN = "down"  # powered off by power management


class VmState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    SHUTTING_DOWN = "shutting_down"
    SHUTOFF = "shutoff"
    CRASHED = "crashed"
    PMSUSPENDED = "pmsuspended"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"
    # The engine is moving it (VM.migration_source -> VM.migration_target): shown once, on the
    # source, until both hosts have been read after the move, whatever libvirt lists meanwhile.
    MIGRATING = "migrating"


# States in which a VM holds CPU and memory on its host.
ACTIVE_VM_STATES = frozenset(
    {VmState.RUNNING, VmState.PAUSED, VmState.SHUTTING_DOWN, VmState.BLOCKED, VmState.PMSUSPENDED}
)


class LoadSource(StrEnum):
    MEASURED = "measured"
    SYNTHETIC = "synthetic"  # the demo's load model: never shown without this label


@dataclass(frozen=True, slots=True)
class DataCenter:
    name: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Cluster:
    name: str
    datacenter: str
    cpu_model: str
    memory_overcommit_percent: int = 100
    resiliency: str = "migrate"
    scheduling_policy: str = "none"
    scheduling_mode: str = "off"
    scheduling_params: MappingProxyType[str, Any] = field(
        default_factory=lambda: MappingProxyType({})
    )


class NetworkState(StrEnum):
    UP = "up"  # the bridge exists and is up
    DOWN = "down"  # the bridge exists but is down
    MISSING = "missing"  # no such bridge on the host
    UNKNOWN = "unknown"  # not read (host unreachable, or not read yet)


@dataclass(frozen=True, slots=True)
class Network:
    """A logical network of a data center (config `[[networks]]`)."""

    name: str
    datacenter: str
    bridge: str
    mtu: int = 1500
    vlan: int | None = None  # modelled, UNTESTED (no 802.1Q in the lab kernel)
    bond: str = ""  # modelled, UNTESTED (no bonding in the lab kernel)
    description: str = ""
    # cluster -> "required" | "optional"
    clusters: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class HostNetwork:
    """One network of a host's cluster, as found on that host."""

    name: str
    bridge: str
    required: bool
    state: NetworkState = NetworkState.UNKNOWN
    missing_since: float | None = None  # unix time it was first seen not up
    mtu: int = 0  # the bridge's MTU as read (0: not read)
    libvirt_network: bool = False  # realised by a libvirt network of its name (bridge mode)

    @property
    def ok(self) -> bool:
        return self.state == NetworkState.UP


@dataclass(frozen=True, slots=True)
class Host:
    name: str
    cluster: str
    datacenter: str
    uri: str
    state: HostState
    state_reason: str = ""
    cpu_model: str = ""
    cpus: int = 0
    memory_mib: int = 0
    cpu_usage: float | None = None  # 0..1 of all host CPUs; None until two samples exist
    memory_used_mib: int = 0  # memory committed to active VMs
    vms_running: int = 0
    vcpus_committed: int = 0
    load_source: LoadSource = LoadSource.MEASURED
    live_migration: bool = True  # False for drivers that cannot migrate live (test driver)
    maintenance: bool = False
    power_management: bool = False
    last_seen: float | None = None  # unix time of the last successful poll
    networks: tuple[HostNetwork, ...] = ()  # the networks of its cluster, as found on it
    # Storage domains whose pool is active on this host now (ovtui.storage); a VM whose disks
    # live on a domain not in here cannot run here (policies/filters/storage.py).
    storage_domains: frozenset[str] = frozenset()
    # VMs whose domain XML is still being read (VM.config_pending): memory_used_mib and
    # vcpus_committed leave them out until it is, so they are not known while this is > 0.
    vms_config_pending: int = 0


@dataclass(frozen=True, slots=True)
class Disk:
    """One disk of a VM, from its domain XML."""

    target: str  # guest device name: vda, sda, hdc
    device: str = "disk"  # disk | cdrom | floppy | lun
    bus: str = ""  # virtio | scsi | sata | ide | usb
    source_type: str = ""  # file | block | volume | network | "" (an empty CD-ROM drive)
    source: str = ""  # path; "pool/volume"; "protocol:name" for network disks


@dataclass(frozen=True, slots=True)
class Nic:
    """One network interface of a VM, from its domain XML."""

    mac: str
    type: str = ""  # network | bridge | direct | user | ...
    source: str = ""  # libvirt network name, host bridge, or host device (direct)
    model: str = ""  # virtio | e1000 | rtl8139 | ...
    target: str = ""  # host-side device (vnet3) while the VM runs; "" otherwise
    link: str = "up"  # up | down (<link state>; libvirt's default is up)


@dataclass(frozen=True, slots=True)
class VmDevices:
    disks: tuple[Disk, ...] = ()
    nics: tuple[Nic, ...] = ()


@dataclass(frozen=True, slots=True)
class VM:
    uuid: str
    name: str
    host: str
    cluster: str
    datacenter: str
    state: VmState
    vcpus: int
    memory_mib: int
    cpu_usage: float | None = None  # 0..1 of the VM's own vCPUs
    load_source: LoadSource = LoadSource.MEASURED
    highly_available: bool = False
    ha_priority: int = 0  # 0..100: HA restarts go highest first (set through the API, stored)
    pinned: bool = False
    migratable: bool = True
    role: str = ""
    affinity_group: str = ""
    anti_affinity_group: str = ""
    persistent: bool = True
    memory_current_mib: int = 0  # what libvirt has given the guest now (balloon); virsh "Used"
    # While state is MIGRATING: where from and to, and how ("live", "cold", "offline"); else "".
    migration_source: str = ""
    migration_target: str = ""
    migration_mode: str = ""
    # Disks and NICs: served by GET /api/v1/vms/{vm} only (lists stay lean, see serialize.py).
    # None: not read yet. Not part of equality: a VM is the same VM whatever its devices.
    devices: VmDevices | None = field(default=None, compare=False, repr=False)
    # Storage domains holding this VM's disks (from its disks and the domains' volumes).
    storage_domains: tuple[str, ...] = field(default=(), compare=False)
    # The domain XML has not been read yet (the engine reads it apart from the polls, so the
    # first view of a large fleet does not wait for it): vcpus, memory_mib, memory_current_mib,
    # the flags from its metadata (highly_available unless set through the API, pinned,
    # migratable, role, affinity groups) and devices are not known; the API shows them as null.
    config_pending: bool = False

    @property
    def active(self) -> bool:
        # A VM moved live or cold keeps running (and holding memory); one moved offline is off.
        state = self.state
        return state in ACTIVE_VM_STATES or (
            state is VmState.MIGRATING and self.migration_mode != "offline"
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One consistent view of the fleet. Hosts are indexed at construction; VMs by uuid and by
    name at the first lookup of each kind (a 20 000-VM snapshot is published every 0.5 s while
    polls run, and most are never looked up by a VM: ~30 ms of the loop each, profiled)."""

    taken_at: float
    datacenters: tuple[DataCenter, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    hosts: tuple[Host, ...] = ()
    vms: tuple[VM, ...] = ()
    networks: tuple[Network, ...] = ()
    _host_index: dict[str, Host] = field(default_factory=dict, repr=False, compare=False)
    _vm_index: dict[str, VM] = field(default_factory=dict, repr=False, compare=False)
    _vms_by_name: dict[str, tuple[VM, ...]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._host_index.update((h.name, h) for h in self.hosts)

    def host(self, name: str) -> Host | None:
        return self._host_index.get(name)

    def vm(self, uuid: str) -> VM | None:
        index = self._vm_index
        if not index and self.vms:
            # Built whole, then put in by one update (atomic under the GIL): a thread that
            # looks up at the same time sees the index empty (and builds its own) or complete.
            index.update({v.uuid: v for v in self.vms})
        return index.get(uuid)

    def vms_named(self, name: str) -> tuple[VM, ...]:
        index = self._vms_by_name
        if not index and self.vms:
            by_name: dict[str, list[VM]] = {}
            for vm in self.vms:
                by_name.setdefault(vm.name, []).append(vm)
            index.update({k: tuple(v) for k, v in by_name.items()})  # as in vm()
        return index.get(name, ())

    def cluster(self, name: str) -> Cluster | None:
        return next((c for c in self.clusters if c.name == name), None)

    def vms_on(self, host: str) -> tuple[VM, ...]:
        return tuple(v for v in self.vms if v.host == host)

    def hosts_in(self, cluster: str) -> tuple[Host, ...]:
        return tuple(h for h in self.hosts if h.cluster == cluster)

    def networks_of(self, cluster: str) -> tuple[Network, ...]:
        return tuple(n for n in self.networks if cluster in n.clusters)
