"""Writes the ovtui Grafana dashboards (dashboards/*.json) from the definitions below.

    python appliance/grafana/build_dashboards.py      # after changing a panel here

The JSON files are committed and provisioned as they are (provisioning/dashboards/ovtui.yaml);
tests/metrics/test_dashboards.py fails if they drift from this file, and the Prometheus
integration test runs every expression in them against a real engine.

Every dashboard has a data-source variable and cluster/host variables (host values follow the
selected clusters). Host series carry only `host`, VM series only `uuid`: panels join
`ovtui_host_info` / `ovtui_vm_info` for names and clusters. Panels marked "(measured)" show
counters read from real libvirtd hosts; they are empty on the test-driver demo, whose load is
synthetic (see the "Load source" panel).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "dashboards"
DS = {"type": "prometheus", "uid": "${datasource}"}
H = 'host=~"$host"'
C = 'cluster=~"$cluster"'
HOSTS = f"ovtui_host_info{{{C}, {H}}}"
VM = 'ovtui_vm_info{cluster=~"$cluster", name=~"$vm"}'
VJ = f" * on (uuid) group_left (name) {VM}"
RI = "$__rate_interval"
Panel = dict[str, Any]


# -- building blocks -----------------------------------------------------------------------------
def target(expr: str, legend: str = "", *, instant: bool = False, table: bool = False) -> Panel:
    return {
        "datasource": DS,
        "expr": expr,
        "legendFormat": legend or "__auto",
        "instant": instant or table,
        "range": not (instant or table),
        "format": "table" if table else "time_series",
    }


def panel(
    kind: str,
    title: str,
    targets: list[Panel],
    *,
    unit: str = "short",
    w: int = 12,
    h: int = 8,
    desc: str = "",
    **options: Any,
) -> Panel:
    for ref, t in zip("ABCDEFGHIJ", targets, strict=False):
        t["refId"] = ref
    out: Panel = {
        "type": kind,
        "title": title,
        "description": desc,
        "datasource": DS,
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "gridPos": {"w": w, "h": h},
    }
    if kind == "timeseries":
        out["options"] = {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
        out["fieldConfig"]["defaults"]["custom"] = {"fillOpacity": 10, "lineWidth": 1}
    elif kind in ("stat", "bargauge"):
        out["options"] = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "textMode": options.pop("text_mode", "auto"),
            "colorMode": "value",
            "graphMode": "none",
            "orientation": "horizontal",
        }
    elif kind == "table":
        out["options"] = {"showHeader": True}
        out["transformations"] = [{"id": "merge", "options": {}}]
    out.update(options)
    return out


def ts(title: str, *targets: Panel, **kw: Any) -> Panel:
    return panel("timeseries", title, list(targets), **kw)


def stat(title: str, *targets: Panel, **kw: Any) -> Panel:
    kw.setdefault("w", 4)
    kw.setdefault("h", 4)
    return panel("stat", title, [dict(t, instant=True, range=False) for t in targets], **kw)


def row(title: str) -> Panel:
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "gridPos": {"w": 24}}


def variable(name: str, label: str, query: str, *, multi: bool = True) -> Panel:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "query": query,
        "definition": query,
        "refresh": 2,  # on time range change: new hosts and VMs appear without a reload
        "multi": multi,
        "includeAll": multi,
        "sort": 1,
        "current": {},
        "options": [],
    }


def variables(*extra: Panel, hosts: bool = True) -> list[Panel]:
    out: list[Panel] = [
        {
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "options": [],
            "refresh": 1,
        },
        dict(
            variable("cluster", "Cluster", "label_values(ovtui_host_info, cluster)"),
            allValue=".*",
        ),
    ]
    if hosts:  # no allValue: "All" means all hosts of the selected clusters
        out.append(variable("host", "Host", f"label_values(ovtui_host_info{{{C}}}, host)"))
    return out + list(extra)


def layout(panels: list[Panel]) -> list[Panel]:
    x = y = line = 0
    for i, p in enumerate(panels, start=1):
        w, h = p["gridPos"]["w"], p["gridPos"].get("h", 1)
        if x + w > 24 or p["type"] == "row":
            x, y, line = 0, y + line, 0
        p["id"] = i
        p["gridPos"] = {"x": x, "y": y, "w": w, "h": h}
        x, line = x + w, max(line, h)
        if p["type"] == "row":
            x, y, line = 0, y + 1, 0
    return panels


def dashboard(uid: str, title: str, desc: str, panels: list[Panel], vars_: list[Panel]) -> Panel:
    return {
        "uid": uid,
        "title": title,
        "description": desc,
        "tags": ["ovtui"],
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "annotations": {"list": []},
        "links": [
            {
                "type": "dashboards",
                "tags": ["ovtui"],
                "asDropdown": True,
                "title": "ovtui dashboards",
                "includeVars": True,
                "keepTime": True,
            }
        ],
        "templating": {"list": vars_},
        "panels": layout(panels),
    }


# -- the dashboards -------------------------------------------------------------------------------
SYNTHETIC_NOTE = (
    "synthetic = the demo's load model on libvirt's test driver, not measurements; "
    "measured = real libvirtd hosts"
)


def fleet() -> Panel:
    by_host = f" * on (host) group_left (cluster) {HOSTS}"
    panels = [
        row("Fleet"),
        stat("Hosts", target(f"count({HOSTS})", "hosts")),
        stat("Hosts up", target(f"sum(ovtui_host_up{by_host})", "up")),
        stat("VMs running", target(f"sum(ovtui_host_vms_running{by_host})", "running")),
        stat("VMs defined", target(f"sum(ovtui_host_vms_defined{by_host})", "defined")),
        stat(
            "Load source",
            target(f"count by (load_source) ({HOSTS})", "{{load_source}}"),
            desc=SYNTHETIC_NOTE,
            text_mode="value_and_name",
        ),
        stat(
            "Host statistics OK",
            target(f"avg(ovtui_host_scrape_up{by_host})", "ok"),
            unit="percentunit",
            desc="Share of hosts whose libvirt statistics this scrape could read",
        ),
        row("CPU"),
        ts(
            "Cluster CPU utilisation",
            target(f"cluster:ovtui_host_cpu_utilisation_ratio:avg{{{C}}}", "{{cluster}} avg"),
            target(f"cluster:ovtui_host_cpu_utilisation_ratio:max{{{C}}}", "{{cluster}} max"),
            unit="percentunit",
        ),
        ts(
            "Host CPU utilisation",
            target(f"ovtui_host_cpu_utilisation_ratio{by_host}", "{{host}}"),
            unit="percentunit",
        ),
        ts(
            "Imbalance (std. dev. of host CPU utilisation)",
            target(f"cluster:ovtui_host_cpu_utilisation_ratio:stddev{{{C}}}", "{{cluster}}"),
            unit="percentunit",
            desc="0 = every host equally busy; what the balancing policy works against",
        ),
        ts(
            "vCPUs per host CPU",
            target(f"cluster:ovtui_host_vcpu_commitment:ratio{{{C}}}", "{{cluster}}"),
        ),
        row("Memory"),
        ts(
            "Memory commitment vs allowance",
            target(f"cluster:ovtui_host_memory_commitment:ratio{{{C}}}", "{{cluster}} committed"),
            target(f"ovtui_cluster_memory_overcommit_ratio{{{C}}}", "{{cluster}} allowed"),
            unit="percentunit",
        ),
        panel(
            "bargauge",
            "Memory commitment per host",
            [target(f"ovtui_host_memory_commitment_ratio{by_host}", "{{host}}", instant=True)],
            unit="percentunit",
        ),
        row("States"),
        panel(
            "bargauge",
            "Hosts by state",
            [target(f"sum by (state) (ovtui_host_state{by_host})", "{{state}}", instant=True)],
        ),
        panel(
            "bargauge",
            "VMs by state",
            [
                target(
                    "count by (state) (ovtui_vm_state * on (uuid) group_left () "
                    f"ovtui_vm_info{{{C}, {H}}})",
                    "{{state}}",
                    instant=True,
                )
            ],
        ),
        row("Engine"),
        ts(
            "Migrations",
            target(f"sum by (mode) (increase(ovtui_migrations_succeeded_total[{RI}]))", "{{mode}}"),
            target(
                f"sum by (kind) (increase(ovtui_migrations_failed_total[{RI}]))", "failed: {{kind}}"
            ),
            w=8,
        ),
        ts(
            "API requests by status",
            target(f"sum by (status) (rate(ovtui_api_requests_total[{RI}]))", "{{status}}"),
            unit="reqps",
            w=8,
        ),
        ts(
            "API latency p90 by route",
            target("route:ovtui_api_request_duration_seconds:p90_rate5m", "{{route}}"),
            unit="s",
            w=8,
        ),
        ts(
            "Statistics read time per host",
            target(f"ovtui_host_scrape_duration_seconds{by_host}", "{{host}}"),
            target('scrape_duration_seconds{job="ovtui"}', "whole scrape"),
            unit="s",
            w=8,
        ),
        ts(
            "Engine memory",
            target('process_resident_memory_bytes{job="ovtui"}', "{{instance}}"),
            unit="bytes",
            w=8,
        ),
        ts(
            "libvirt call errors",
            target(
                "sum by (host, call, kind) "
                f"(increase(ovtui_libvirt_call_errors_total{{{H}}}[{RI}]))",
                "{{host}} {{call}} {{kind}}",
            ),
            w=8,
        ),
        row("Storage"),
        ts(
            "Storage domain free space",
            target("min by (domain) (ovtui_storage_domain_available_bytes)", "{{domain}} free"),
            target("max by (domain) (ovtui_storage_domain_capacity_bytes)", "{{domain}} size"),
            unit="bytes",
            w=8,
            desc="A shared domain is reported by each host that sees it: the lowest free space",
        ),
        ts(
            "Storage domain forecast: free space in 24 h",
            target(
                "min by (domain) (predict_linear(ovtui_storage_domain_available_bytes[6h], 86400))",
                "{{domain}}",
            ),
            unit="bytes",
            w=8,
            desc="Below zero: OvtuiStorageDomainFullWithinADay fires",
        ),
        ts(
            "Storage domain pools not active",
            target(
                'count by (domain) (ovtui_storage_domain_state{state="active"} == 0) '
                'or count by (domain) (ovtui_storage_domain_state{state="active"}) * 0',
                "{{domain}}",
            ),
            w=8,
            desc="Hosts where the domain's pool is not active (0: every host has it)",
        ),
        ts(
            "Disk allocation (largest 10)",
            target("topk(10, ovtui_disk_allocation_bytes)", "{{domain}}/{{disk}} {{vm}}"),
            unit="bytes",
            w=12,
        ),
        ts(
            "Disk moves",
            target(f"increase(ovtui_disk_moves_started_total[{RI}])", "started"),
            target(f"increase(ovtui_disk_moves_succeeded_total[{RI}])", "succeeded"),
            target(f"increase(ovtui_disk_moves_failed_total[{RI}])", "failed"),
            w=12,
        ),
    ]
    return dashboard(
        "ovtui-fleet",
        "ovtui / Fleet overview",
        "Hosts, VMs, utilisation, commitment and the engine's own health. " + SYNTHETIC_NOTE,
        panels,
        variables(),
    )


def host() -> Panel:
    one = f"{{{H}}}"
    panels = [
        row("Host"),
        stat(
            "State",
            target(f"ovtui_host_state{one} == 1", "{{host}}: {{state}}"),
            w=6,
            text_mode="name",
        ),
        stat(
            "Power",
            target(f"ovtui_host_power_state{one} == 1", "{{host}}: {{state}}"),
            text_mode="name",
        ),
        stat("Maintenance", target(f"ovtui_host_maintenance{one}", "{{host}}")),
        stat("CPUs", target(f"ovtui_host_cpus{one}", "{{host}}")),
        stat("Memory", target(f"ovtui_host_memory_total_bytes{one}", "{{host}}"), unit="bytes"),
        stat("VMs running", target(f"ovtui_host_vms_running{one}", "{{host}}"), w=2),
        row("CPU"),
        ts(
            "CPU utilisation (VMs)",
            target(f"ovtui_host_cpu_utilisation_ratio{one}", "{{host}}"),
            unit="percentunit",
            desc="Synthetic on test-driver hosts (see ovtui_host_info load_source)",
        ),
        ts(
            "Host CPU by mode (measured)",
            target(
                f"sum by (host, mode) (rate(ovtui_host_cpu_seconds_total{one}[{RI}]))",
                "{{host}} {{mode}}",
            ),
            desc="CPU-seconds per second, read from libvirt (virNodeGetCPUStats)",
        ),
        ts(
            "VM CPU and steal (measured)",
            target(f"host:ovtui_vm_cpu_seconds:rate5m{one}", "{{host}} VM CPU"),
            target(f"host:ovtui_vm_vcpu_delay_seconds:rate5m{one}", "{{host}} steal"),
            desc="CPU-seconds per second of the host's VMs, and time their runnable vCPUs waited",
        ),
        ts(
            "Commitment",
            target(f"ovtui_host_vcpu_commitment_ratio{one}", "{{host}} vCPU/CPU"),
            target(f"ovtui_host_memory_commitment_ratio{one}", "{{host}} memory"),
        ),
        row("Memory"),
        ts(
            "Memory",
            target(f"ovtui_host_memory_total_bytes{one}", "{{host}} total"),
            target(f"ovtui_host_memory_committed_bytes{one}", "{{host}} committed to VMs"),
            target(f"ovtui_host_memory_used_bytes{one}", "{{host}} used (measured)"),
            target(f"ovtui_host_memory_free_bytes{one}", "{{host}} free (measured)"),
            unit="bytes",
        ),
        ts(
            "KSM (measured)",
            target(f"ovtui_host_ksm_sharing_pages{one}", "{{host}} sharing"),
            target(f"ovtui_host_ksm_shared_pages{one}", "{{host}} shared"),
            desc="Pages KSM deduplicates (sharing) and the pages they share (shared)",
        ),
        row("VMs and statistics"),
        panel(
            "table",
            "Busiest VMs",
            [
                target(
                    "topk(10, ovtui_vm_cpu_utilisation_ratio"
                    f" * on (uuid) group_left (name, host) ovtui_vm_info{one})",
                    table=True,
                )
            ],
            unit="percentunit",
        ),
        ts(
            "Statistics reads",
            target(f"ovtui_host_scrape_duration_seconds{one}", "{{host}} read time"),
            target(f"ovtui_host_stats_age_seconds{one}", "{{host}} age when served"),
            target(f"1 - ovtui_host_scrape_up{one}", "{{host}} failed"),
            unit="s",
        ),
    ]
    return dashboard(
        "ovtui-host",
        "ovtui / Host detail",
        "One or more hosts: state, CPU, memory, commitment, KSM, busiest VMs, statistics reads.",
        panels,
        variables(),
    )


def vm() -> Panel:
    vm_var = variable("vm", "VM", f"label_values(ovtui_vm_info{{{C}, {H}}}, name)", multi=False)
    panels = [
        row("VM"),
        stat("State", target(f"ovtui_vm_state{VJ}", "{{state}}"), text_mode="name"),
        stat("Host", target(VM, "{{host}}"), text_mode="name"),
        stat("vCPUs", target(f"ovtui_vm_vcpus{VJ}", "{{name}}")),
        stat("Memory", target(f"ovtui_vm_memory_configured_bytes{VJ}", "{{name}}"), unit="bytes"),
        stat(
            "Load source",
            target(f"count by (load_source) ({VM})", "{{load_source}}"),
            desc=SYNTHETIC_NOTE,
            text_mode="name",
            w=8,
        ),
        row("CPU"),
        ts(
            "CPU utilisation",
            target(f"ovtui_vm_cpu_utilisation_ratio{VJ}", "{{name}}"),
            unit="percentunit",
        ),
        ts(
            "CPU time (measured)",
            target(f"rate(ovtui_vm_cpu_seconds_total[{RI}]){VJ}", "{{name}} total"),
            target(f"rate(ovtui_vm_cpu_user_seconds_total[{RI}]){VJ}", "{{name}} user"),
            target(f"rate(ovtui_vm_cpu_system_seconds_total[{RI}]){VJ}", "{{name}} system"),
            desc="CPU-seconds per second",
        ),
        ts(
            "vCPU steal and I/O wait (measured)",
            target(f"rate(ovtui_vm_vcpu_delay_seconds_total[{RI}]){VJ}", "{{name}} steal"),
            target(f"rate(ovtui_vm_vcpu_wait_seconds_total[{RI}]){VJ}", "{{name}} wait"),
            desc="Seconds per second, summed over the VM's vCPUs",
        ),
        ts(
            "Memory",
            target(f"ovtui_vm_memory_configured_bytes{VJ}", "configured"),
            target(f"ovtui_vm_memory_balloon_current_bytes{VJ}", "balloon (measured)"),
            target(f"ovtui_vm_memory_rss_bytes{VJ}", "rss on host (measured)"),
            target(f"ovtui_vm_memory_usable_bytes{VJ}", "usable in guest (measured)"),
            unit="bytes",
        ),
        row("Disk and network (measured)"),
        ts(
            "Disk throughput (measured)",
            target(
                f"sum by (device) (rate(ovtui_vm_block_read_bytes_total[{RI}]){VJ})",
                "{{device}} read",
            ),
            target(
                f"sum by (device) (rate(ovtui_vm_block_write_bytes_total[{RI}]){VJ})",
                "{{device}} write",
            ),
            unit="Bps",
        ),
        ts(
            "Disk operations (measured)",
            target(
                f"sum by (device) (rate(ovtui_vm_block_read_requests_total[{RI}]){VJ})",
                "{{device}} reads",
            ),
            target(
                f"sum by (device) (rate(ovtui_vm_block_write_requests_total[{RI}]){VJ})",
                "{{device}} writes",
            ),
            unit="iops",
        ),
        ts(
            "Network throughput (measured)",
            target(
                f"sum by (interface) (rate(ovtui_vm_network_receive_bytes_total[{RI}]){VJ})",
                "{{interface}} in",
            ),
            target(
                f"sum by (interface) (rate(ovtui_vm_network_transmit_bytes_total[{RI}]){VJ})",
                "{{interface}} out",
            ),
            unit="Bps",
        ),
        ts(
            "Network errors and drops (measured)",
            target(
                "sum by (interface) ("
                f"rate(ovtui_vm_network_receive_errors_total[{RI}]){VJ}"
                f" + rate(ovtui_vm_network_receive_drops_total[{RI}]){VJ})",
                "{{interface}} in",
            ),
            target(
                "sum by (interface) ("
                f"rate(ovtui_vm_network_transmit_errors_total[{RI}]){VJ}"
                f" + rate(ovtui_vm_network_transmit_drops_total[{RI}]){VJ})",
                "{{interface}} out",
            ),
            unit="pps",
        ),
    ]
    return dashboard(
        "ovtui-vm",
        "ovtui / VM detail",
        "One VM: state, placement, CPU, steal, memory (balloon), disks and network. "
        + SYNTHETIC_NOTE,
        panels,
        variables(vm_var),
    )


def policies() -> Panel:
    cl = f"{{{C}}}"
    panels = [
        row("Balance"),
        ts(
            "Imbalance now (std. dev. of host CPU)",
            target(f"cluster:ovtui_host_cpu_utilisation_ratio:stddev{cl}", "{{cluster}}"),
            unit="percentunit",
        ),
        ts(
            "Plans: imbalance before and after",
            target(f"ovtui_plan_imbalance_before_ratio{cl}", "{{cluster}} {{policy}} before"),
            target(f"ovtui_plan_imbalance_after_ratio{cl}", "{{cluster}} {{policy}} after"),
            unit="percentunit",
        ),
        ts(
            "Last round: migrations and hosts released",
            target(f"ovtui_plan_migrations{cl}", "{{cluster}} migrations"),
            target(f"ovtui_plan_hosts_released{cl}", "{{cluster}} hosts released"),
            w=8,
        ),
        ts(
            "Rounds",
            target(
                f"sum by (cluster, policy) (increase(ovtui_plan_rounds_total{cl}[{RI}]))",
                "{{cluster}} {{policy}}",
            ),
            w=8,
        ),
        ts(
            "Migrations per round (p90)",
            target(
                "histogram_quantile(0.9, sum by (le, cluster) "
                f"(rate(ovtui_plan_round_migrations_bucket{cl}[1h])))",
                "{{cluster}}",
            ),
            w=8,
        ),
        panel(
            "table",
            "Scheduling per cluster",
            [target(f"ovtui_cluster_info{cl}", table=True)],
            w=24,
            h=5,
        ),
        row("Jobs"),
        ts(
            "Job runs",
            target(
                f"sum by (job, result) (increase(ovtui_job_runs_total[{RI}]))",
                "{{job}} {{result}}",
            ),
            w=8,
        ),
        ts(
            "Job duration (p90)",
            target(
                "histogram_quantile(0.9, sum by (le, job) "
                f"(rate(ovtui_job_duration_seconds_bucket[{RI}])))",
                "{{job}}",
            ),
            unit="s",
            w=8,
        ),
        ts(
            "Since last successful run",
            target("time() - ovtui_job_last_success_timestamp_seconds", "{{job}}"),
            unit="s",
            w=8,
        ),
        row("Migrations"),
        ts(
            "Migrations",
            target("sum(increase(ovtui_migrations_started_total[$__rate_interval]))", "started"),
            target(f"sum by (mode) (increase(ovtui_migrations_succeeded_total[{RI}]))", "{{mode}}"),
            target(
                f"sum by (kind) (increase(ovtui_migrations_failed_total[{RI}]))", "failed: {{kind}}"
            ),
            w=8,
        ),
        ts(
            "Migration duration (p90)",
            target(
                "histogram_quantile(0.9, sum by (le, mode) "
                f"(rate(ovtui_migration_duration_seconds_bucket[{RI}])))",
                "{{mode}}",
            ),
            unit="s",
            w=8,
        ),
        ts(
            "Migration downtime (p90)",
            target(
                "histogram_quantile(0.9, sum by (le, mode) "
                f"(rate(ovtui_migration_downtime_seconds_bucket[{RI}])))",
                "{{mode}}",
            ),
            unit="s",
            w=8,
            desc="live: as reported by the migration; cold: the whole move (an upper bound)",
        ),
    ]
    return dashboard(
        "ovtui-policies",
        "ovtui / Policies and migrations",
        "Balancing and power-saving rounds, scheduled jobs and the migrations they cause.",
        panels,
        variables(hosts=False),
    )


DASHBOARDS = {
    "ovtui-fleet.json": fleet,
    "ovtui-host.json": host,
    "ovtui-vm.json": vm,
    "ovtui-policies.json": policies,
}


def render() -> dict[str, str]:
    return {name: json.dumps(build(), indent=2) + "\n" for name, build in DASHBOARDS.items()}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text)
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
