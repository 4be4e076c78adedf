"""The embedded demo fleet: one data center, two clusters, seven hosts, about 120 VMs.

Deterministic by construction (a literal table). Load comes from collectors.synthetic_load:
``kvm-a04`` carries the "hot" VMs and is clearly busy; ``kvm-b03`` is nearly idle (a candidate
for power saving). The generated node files are committed under appliance/demo/.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from ovtui.testdriver_fleet.spec import (
    ClusterSpec,
    DatacenterSpec,
    FleetSpec,
    HostSpec,
    ParamValue,
    VmSpec,
)

GIB = 1024


def _vm(name: str, vcpus: int, mem_gib: int, role: str, **flags: Any) -> VmSpec:
    return VmSpec(name, vcpus, mem_gib * GIB, role, **flags)


def _series(
    prefix: str, first: int, last: int, vcpus: int, mem_gib: int, role: str, **flags: Any
) -> list[VmSpec]:
    return [_vm(f"{prefix}-{i:02d}", vcpus, mem_gib, role, **flags) for i in range(first, last + 1)]


def _kvm_a01() -> list[VmSpec]:
    return [
        _vm("lb-nginx-01", 2, 2, "web", ha=True),
        *_series("web-frontend", 1, 6, 2, 4, "web"),
        _vm("api-gateway-01", 4, 8, "api", ha=True),
        *_series("api-orders", 1, 3, 4, 8, "api"),
        *_series("api-users", 1, 2, 4, 8, "api"),
        _vm("pg-orders-primary", 16, 128, "db", ha=True, pinned=True, anti_affinity="pg-orders"),
        *_series("redis-cache", 1, 2, 2, 16, "cache"),
        _vm("memcached-01", 2, 8, "cache"),
        *_series("api-search", 1, 2, 4, 8, "api"),
        *_series("kafka-broker", 1, 2, 8, 32, "queue"),
        _vm("kafka-broker-06", 8, 32, "queue"),
        _vm("zookeeper-01", 2, 4, "queue"),
        _vm("jump-a01", 1, 2, "jump", ha=True),
    ]


def _kvm_a02() -> list[VmSpec]:
    return [
        _vm("lb-nginx-02", 2, 2, "web", ha=True),
        *_series("web-frontend", 7, 12, 2, 4, "web"),
        _vm("api-gateway-02", 4, 8, "api", ha=True),
        *_series("api-orders", 4, 6, 4, 8, "api"),
        *_series("api-payments", 1, 2, 4, 8, "api", ha=True),
        _vm("pg-orders-replica-01", 8, 64, "db", anti_affinity="pg-orders"),
        _vm("pg-users-primary", 8, 64, "db", ha=True, anti_affinity="pg-users"),
        *_series("redis-session", 1, 2, 2, 8, "cache"),
        _vm("memcached-02", 2, 8, "cache"),
        *_series("kafka-broker", 3, 4, 8, 32, "queue"),
        _vm("zookeeper-02", 2, 4, "queue"),
    ]


def _kvm_a03() -> list[VmSpec]:
    return [
        *_series("web-frontend", 13, 16, 2, 4, "web"),
        *_series("api-users", 3, 4, 4, 8, "api"),
        *_series("api-payments", 3, 4, 4, 8, "api", ha=True),
        _vm("pg-orders-replica-02", 8, 64, "db", anti_affinity="pg-orders"),
        _vm("pg-users-replica-01", 4, 32, "db", anti_affinity="pg-users"),
        *_series("redis-cache", 3, 4, 2, 16, "cache"),
        _vm("kafka-broker-05", 8, 32, "queue"),
        _vm("zookeeper-03", 2, 4, "queue"),
        _vm("pg-analytics-01", 8, 48, "db", running=False),
        _vm("web-staging-01", 2, 4, "web", running=False),
        _vm("api-staging-01", 2, 4, "api", running=False),
    ]


def _kvm_a04() -> list[VmSpec]:
    # The busy host: three hot VMs plus an affinity pair that must stay together.
    return [
        *_series("recommender", 1, 2, 4, 8, "hot"),
        _vm("thumbnail-render-01", 4, 8, "hot", migratable=False),
        _vm("feed-ranker-01", 2, 4, "hot"),
        _vm("api-orders-07", 4, 8, "api", affinity="orders-edge"),
        _vm("redis-orders-01", 2, 8, "cache", affinity="orders-edge"),
        _vm("pg-users-replica-02", 2, 16, "db", anti_affinity="pg-users"),
    ]


def _kvm_b01() -> list[VmSpec]:
    return [
        *_series("ci-runner", 1, 6, 4, 8, "ci"),
        *_series("ci-runner", 7, 8, 4, 8, "ci", running=False),
        *_series("etl-nightly", 1, 3, 8, 16, "etl"),
        _vm("etl-nightly-05", 4, 16, "etl"),
        *_series("spark-worker", 1, 2, 8, 32, "batch"),
        *_series("batch-report", 1, 2, 4, 8, "batch"),
        *_series("es-data", 1, 4, 8, 64, "search"),
        _vm("es-master-01", 2, 4, "search", anti_affinity="es-master"),
        _vm(
            "mysql-billing-primary",
            8,
            32,
            "db",
            ha=True,
            pinned=True,
            anti_affinity="mysql-billing",
        ),
        _vm("prometheus-01", 4, 16, "monitoring", ha=True),
        _vm("grafana-01", 2, 4, "monitoring"),
        _vm("license-server-01", 1, 2, "infra", migratable=False),
        _vm("vault-01", 2, 4, "infra", ha=True),
    ]


def _kvm_b02() -> list[VmSpec]:
    return [
        *_series("ci-runner", 9, 12, 4, 8, "ci"),
        *_series("ci-runner", 13, 14, 4, 8, "ci", running=False),
        _vm("win-build-01", 4, 16, "ci", running=False, migratable=False),
        _vm("etl-nightly-04", 8, 16, "etl"),
        _vm("batch-report-03", 4, 8, "batch"),
        _vm("batch-report-04", 4, 8, "batch", running=False),
        *_series("es-data", 5, 6, 8, 64, "search"),
        _vm("es-master-02", 2, 4, "search", anti_affinity="es-master"),
        _vm("mysql-billing-replica-01", 4, 32, "db", anti_affinity="mysql-billing"),
        _vm("prometheus-02", 4, 16, "monitoring"),
        _vm("loki-01", 4, 16, "monitoring"),
        _vm("artifact-cache-01", 4, 16, "api"),
        _vm("dns-01", 1, 2, "infra", ha=True),
    ]


def _kvm_b03() -> list[VmSpec]:
    # The nearly idle host: infrastructure odds and ends and VMs that are switched off.
    return [
        _vm("jump-b01", 1, 2, "jump"),
        _vm("alertmanager-01", 1, 2, "monitoring"),
        _vm("dns-02", 1, 2, "infra"),
        _vm("mail-relay-01", 1, 2, "infra"),
        _vm("es-master-03", 2, 4, "search", anti_affinity="es-master"),
        *_series("ci-runner", 15, 16, 4, 8, "ci", running=False),
        _vm("etl-backfill-01", 8, 16, "etl", running=False),
    ]


# Read-only so that nobody can change the demo by mutating a shared dict.
PROD_A_PARAMS = MappingProxyType({"HighUtilization": 80, "CpuOverCommitDurationMinutes": 2})
PROD_B_PARAMS: MappingProxyType[str, ParamValue] = MappingProxyType(
    {"ConsolidationMode": "demand", "HighUtilization": 80, "CpuOverCommitDurationMinutes": 2}
)


def demo_spec() -> FleetSpec:
    """The demo fleet. Always the same: tests compare it with the files in appliance/demo/."""
    a, b = "Skylake-Server", "EPYC-Rome"
    return FleetSpec(
        datacenters=(DatacenterSpec("dc1", "Demo site (libvirt test driver, synthetic load)"),),
        clusters=(
            ClusterSpec(
                "prod-a", "dc1", a, 150, "evenly_distributed", "recommend", params=PROD_A_PARAMS
            ),
            ClusterSpec("prod-b", "dc1", b, 150, "power_saving", "recommend", params=PROD_B_PARAMS),
        ),
        hosts=(
            HostSpec("kvm-a01", "prod-a", 64, 512 * GIB, a, 2600, tuple(_kvm_a01())),
            HostSpec("kvm-a02", "prod-a", 48, 384 * GIB, a, 2600, tuple(_kvm_a02())),
            HostSpec("kvm-a03", "prod-a", 32, 256 * GIB, a, 2400, tuple(_kvm_a03())),
            HostSpec("kvm-a04", "prod-a", 16, 64 * GIB, a, 2100, tuple(_kvm_a04())),
            HostSpec("kvm-b01", "prod-b", 64, 512 * GIB, b, 2900, tuple(_kvm_b01())),
            HostSpec("kvm-b02", "prod-b", 32, 256 * GIB, b, 3000, tuple(_kvm_b02())),
            HostSpec("kvm-b03", "prod-b", 24, 128 * GIB, b, 2800, tuple(_kvm_b03())),
        ),
    )
