"""The embedded fleet on libvirt's test driver: specs, node XML, engine config, demo, generators.

Every VM's load on such a fleet is SYNTHETIC (see collectors.synthetic_load): the test driver
reports wall-clock CPU time, so hosts are configured with ``load = "synthetic"``.

    python -m ovtui.testdriver_fleet --demo DIR
    python -m ovtui.testdriver_fleet --hosts 100 --vms-per-host 40 DIR
"""

from ovtui.testdriver_fleet.demo import demo_spec
from ovtui.testdriver_fleet.files import (
    TEST_DRIVER_NS,
    config_toml,
    host_uri,
    node_xml,
    write_fleet,
    write_nodes,
)
from ovtui.testdriver_fleet.spec import (
    VM_METADATA_NS,
    VM_UUID_NAMESPACE,
    ClusterSpec,
    DatacenterSpec,
    FleetSpec,
    HostSpec,
    VmSpec,
    validate,
    vm_uuid,
)
from ovtui.testdriver_fleet.synthetic import synthetic_spec

__all__ = [
    "TEST_DRIVER_NS",
    "VM_METADATA_NS",
    "VM_UUID_NAMESPACE",
    "ClusterSpec",
    "DatacenterSpec",
    "FleetSpec",
    "HostSpec",
    "VmSpec",
    "config_toml",
    "demo_spec",
    "host_uri",
    "node_xml",
    "synthetic_spec",
    "validate",
    "vm_uuid",
    "write_fleet",
    "write_nodes",
]
