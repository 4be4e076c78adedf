"""A real Prometheus scrapes a real engine on the demo fleet and evaluates everything we ship.

The test starts `prometheus` (Debian package) on a loopback port with its own config (1 s scrape
and evaluation intervals, the repository's rule files, the engine's exporter as job "ovtui") and a
temporary TSDB, and stops it by PID. It checks that the target is up, that every recording and
alert rule evaluates without error, and runs every expression of the rules and of every dashboard
panel and variable through the query API.

Which expressions may legitimately return nothing on a healthy demo, and why:
- alert expressions: they are conditions; a healthy fleet should not meet most of them. They must
  still parse and evaluate (query status "success" and rule health "ok").
- expressions whose only missing inputs are families the test driver cannot produce (the
  collectors' MEASURED_ONLY lists: node CPU seconds, host memory used/free, KSM, VM CPU seconds,
  balloon, vCPU, block and interface counters). The test proves those inputs really are absent
  from the scrape, so the list cannot hide a family that should be there.
Everything else must return at least one series. Events a fresh demo has not seen yet (a migration,
a policy round, a job run, API calls) are caused first: a real cold migration through the API
(Engine.migrate's hook), and a plan round and job runs through the recorders the policy and job
code call.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collectors.host_metrics import MEASURED_ONLY as HOST_MEASURED
from collectors.vm_metrics import MEASURED_ONLY as VM_MEASURED
from ovtui.config.storage_schema import StorageDomainConfig
from ovtui.testdriver_fleet import demo_spec
from tests.conftest import API, LiveEngine, eventually, fleet_config
from tests.metrics.dashboard_exprs import concrete, dashboards, panel_exprs, variable_queries
from tests.networks.fleet import add_networks

PROMETHEUS = shutil.which("prometheus")
RULES = Path(__file__).resolve().parents[2] / "appliance" / "prometheus" / "rules"
MEASURED_ONLY = HOST_MEASURED | VM_MEASURED
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus (Debian package) missing"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


WAIT = 60.0  # deadlines for what Prometheus does on its own schedule (1 s): generous


class Prometheus:
    def __init__(self, root: Path, target_port: int) -> None:
        self.port = _free_port()
        config = root / "prometheus.yml"
        rule_files = "\n".join(f"  - {p}" for p in sorted(RULES.glob("*.yml")))
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
            f"rule_files:\n{rule_files}\n"
            "scrape_configs:\n  - job_name: ovtui\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{target_port}']\n"
        )
        self.log = root / "prometheus.log"
        assert PROMETHEUS is not None
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={root / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def get(self, path: str, **params: str) -> Any:
        url = f"http://127.0.0.1:{self.port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as resp:
            return (
                json.loads(resp.read())
                if resp.headers.get_content_type() == "application/json"
                else resp.read()
            )

    def query(self, expr: str) -> list[dict[str, Any]]:
        try:
            answer = self.get("/api/v1/query", query=expr)
        except urllib.error.HTTPError as err:
            raise AssertionError(f"{expr!r}: {err.read().decode()}") from None
        assert answer["status"] == "success", (expr, answer)
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                self.get("/-/ready")
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"prometheus not ready within {timeout} s: {self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# One logical network on every demo host, with a few running VMs' NICs on it: the per-network
# traffic rules join the NIC counters to ovtui_vm_nic_network_info, which needs NICs on a network
# (tests.networks.fleet gives a NIC a MAC from its VM name's length: these four differ).
NETWORK = """
[[networks]]
name = "prod"
datacenter = "dc1"
bridge = "br-prod"
clusters = { prod-a = "required", prod-b = "optional" }
"""
NETWORKED_VMS = ("web-frontend-01", "lb-nginx-02", "ci-runner-01", "dns-02")


@pytest.fixture
def demo(start_engine) -> LiveEngine:
    spec = demo_spec()
    on_network = add_networks(
        {h.name: ["br-prod"] for h in spec.hosts},
        {vm: ["br-prod"] for vm in NETWORKED_VMS},
        NETWORK,
    )
    config = fleet_config(spec, prepare=on_network)
    # one storage domain (a directory on the first host) with a disk: the storage panels' data
    first = config.hosts[0]
    local = StorageDomainConfig(
        name="images",
        datacenter=config.datacenter_of(first.cluster),
        type="local",
        path=Path("/var/lib/images"),
        hosts=[first.name],
    )
    config = config.model_copy(
        update={
            "exporter": config.exporter.model_copy(update={"listen": "127.0.0.1:0"}),
            "storage_domains": [local],
        }
    )
    live = start_engine(config=config)
    admin = live.as_role("SuperUser")
    disk = {"name": "d1", "size_bytes": 1 << 30}

    def made() -> bool:  # refused (503) until the engine has realised the pool
        return admin.post(f"{API}/storage/images/disks", json=disk).status_code == 201

    eventually(made, 15, "a disk on the storage domain")
    return live


@pytest.fixture
def prometheus(demo: LiveEngine) -> Iterator[Prometheus]:
    root = Path(tempfile.mkdtemp(prefix="ovt-prom-"))
    assert demo.engine.exporter_port
    prom = Prometheus(root, demo.engine.exporter_port)
    try:
        prom.wait_ready()
        yield prom
    finally:
        prom.stop()
        shutil.rmtree(root, ignore_errors=True)


def _target_up(prom: Prometheus) -> bool:
    targets = prom.get("/api/v1/targets")["data"]["activeTargets"]
    return bool(targets) and all(t["health"] == "up" for t in targets)


def _cause_events(demo: LiveEngine) -> None:
    admin = demo.as_role("SuperUser")
    resp = admin.post(f"{API}/vms/web-frontend-01/migrate", json={"target": "kvm-a02"})
    assert resp.status_code == 200, resp.text
    metrics = demo.engine.metrics
    metrics.plans.record(
        cluster="prod-a",
        policy="evenly_distributed",
        imbalance_before=0.3,
        imbalance_after=0.1,
        hosts_released=0,
        migrations=2,
    )
    metrics.jobs.declare("balance-prod-a")
    with metrics.jobs.track("balance-prod-a"):
        pass
    with metrics.jobs.track("housekeeping", kind="housekeeping"):
        pass


def _names(expr: str) -> set[str]:
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # no label values
    return set(re.findall(r"\b(ovtui_\w+|process_\w+|scrape_\w+|up|\w+:[\w:]+)\b", bare))


def test_prometheus_scrapes_the_engine_and_every_shipped_expression_evaluates(
    demo: LiveEngine, prometheus: Prometheus
) -> None:
    eventually(lambda: _target_up(prometheus), timeout=WAIT, what="scrape target up")
    # a few scrapes of the quiet state, so counters have a before and an after
    eventually(
        lambda: prometheus.query('count_over_time(up{job="ovtui"}[5m]) >= 3'),
        timeout=WAIT,
        what="three scrapes before the events",
    )
    _cause_events(demo)
    eventually(
        lambda: prometheus.query('ovtui_migrations_succeeded_total{mode="cold"} > 0'),
        timeout=WAIT,
        what="the migration visible in Prometheus",
    )
    assert _target_up(prometheus)
    assert prometheus.query('up{job="ovtui"} == 1')

    def rules_now() -> list[dict[str, Any]]:
        groups = prometheus.get("/api/v1/rules")["data"]["groups"]
        return [r for g in groups for r in g["rules"]]

    rules = rules_now()
    assert len(rules) >= 20
    recorded = {r["name"]: r["query"] for r in rules if r["type"] == "recording"}
    alerts = {r["name"]: r["query"] for r in rules if r["type"] == "alerting"}

    def inputs(expr: str) -> set[str]:
        found: set[str] = set()
        for name in _names(expr):
            found |= inputs(recorded[name]) if name in recorded else {name}
        return found

    def present(name: str) -> bool:
        return bool(prometheus.query(f'count({{__name__="{name}"}})'))

    measured_absent = {n for n in MEASURED_ONLY if not present(n)}
    assert measured_absent == MEASURED_ONLY, "the test driver produced 'measured' families"

    to_check: list[tuple[str, str, bool]] = [  # (where, expr, may be empty)
        *((f"alert {n}", q, True) for n, q in alerts.items()),
        *((f"recording rule {n}", q, False) for n, q in recorded.items()),
    ]
    for file, dash in dashboards().items():
        to_check += [(f"{file}: {title}", concrete(e), False) for title, e in panel_exprs(dash)]
        to_check += [(f"{file}: ${v}", concrete(q), False) for v, q in variable_queries(dash)]
    assert len(to_check) > 80

    def check_all() -> tuple[list[str], list[str]]:
        """(expressions empty for want of measured counters, problems)."""
        problems = [f"rule {r['name']}: {r['health']} {r.get('lastError', '')}"
                    for r in rules_now() if r["health"] != "ok" or r.get("lastError")]  # fmt: skip
        empty_measured = []
        for where, expr, may_be_empty in to_check:
            result = prometheus.query(expr)  # raises on a parse or evaluation error
            if result or may_be_empty:
                continue
            missing = {n for n in inputs(expr) if not present(n)}
            if missing and missing <= MEASURED_ONLY:
                empty_measured.append(where)
            else:
                problems.append(f"{where}: no data; missing inputs {sorted(missing)}: {expr}")
        return empty_measured, problems

    # Rates need two samples after the events and rules an evaluation or two: wait until every
    # expression has its data (a deadline against a hang, not a bound on how fast that is).
    deadline = time.monotonic() + WAIT
    empty_measured, problems = check_all()
    while problems and time.monotonic() < deadline:
        time.sleep(1.0)  # Prometheus scrapes and evaluates every second
        empty_measured, problems = check_all()
    assert not problems, "\n".join(problems)
    # the per-network rules are empty only for want of the counters: their join has its NICs
    # (the migrated VM's NIC rejoins once its devices are read on its new host: wait for it)
    want = str(len(NETWORKED_VMS))
    deadline = time.monotonic() + WAIT
    on_prod = prometheus.query('count(ovtui_vm_nic_network_info{network="prod"})')
    while not (on_prod and on_prod[0]["value"][1] == want) and time.monotonic() < deadline:
        time.sleep(1.0)
        on_prod = prometheus.query('count(ovtui_vm_nic_network_info{network="prod"})')
    assert on_prod and on_prod[0]["value"][1] == want, on_prod
    print(f"{len(to_check)} expressions; empty for want of measured counters:", empty_measured)
    assert empty_measured  # the measured panels are there, and only they are empty
