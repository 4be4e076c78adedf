"""The Grafana dashboards: generated from build_dashboards.py, with variables and sane panels."""

from __future__ import annotations

import importlib.util

import pytest

from tests.metrics.dashboard_exprs import (
    DASHBOARDS,
    GRAFANA,
    concrete,
    dashboards,
    panel_exprs,
    panels,
    variable_queries,
)

EXPECTED = {"ovtui-fleet.json", "ovtui-host.json", "ovtui-vm.json", "ovtui-policies.json"}


def _builder():
    spec = importlib.util.spec_from_file_location(
        "build_dashboards", GRAFANA / "build_dashboards.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_json_is_what_build_dashboards_writes() -> None:
    rendered = _builder().render()
    assert set(rendered) == EXPECTED
    for name, text in rendered.items():
        assert (DASHBOARDS / name).read_text() == text, (
            f"{name} differs from appliance/grafana/build_dashboards.py; "
            "run: .venv/bin/python appliance/grafana/build_dashboards.py"
        )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dashboard_has_datasource_and_cluster_host_variables(name: str) -> None:
    dash = dashboards()[name]
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert "cluster" in variables
    if name != "ovtui-policies.json":  # policies work per cluster
        assert "host" in variables
        assert "$cluster" in variables["host"]["query"]  # hosts follow the selected clusters
    for p in panels(dash):
        if p["type"] != "row":
            assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_panels_have_queries_unique_ids_and_fit_the_grid(name: str) -> None:
    dash = dashboards()[name]
    ids = [p["id"] for p in panels(dash)]
    assert len(ids) == len(set(ids))
    for p in panels(dash):
        grid = p["gridPos"]
        assert grid["x"] + grid["w"] <= 24, p["title"]
        if p["type"] == "row":
            continue
        refs = [t["refId"] for t in p["targets"]]
        assert refs and len(refs) == len(set(refs)), p["title"]
        assert all(t["expr"].strip() for t in p["targets"]), p["title"]
    assert len(panel_exprs(dash)) >= 8


def test_uids_are_unique_and_provisioning_points_at_a_directory() -> None:
    uids = [d["uid"] for d in dashboards().values()]
    assert len(uids) == len(set(uids))
    text = (GRAFANA / "provisioning" / "dashboards" / "ovtui.yaml").read_text()
    assert "type: file" in text and "path:" in text
    ds = (GRAFANA / "provisioning" / "datasources" / "ovtui.yaml").read_text()
    assert "type: prometheus" in ds


def test_variables_become_plain_promql() -> None:
    assert concrete('rate(x{host=~"$host"}[$__rate_interval])') == 'rate(x{host=~".*"}[1m])'
    assert concrete('label_values(ovtui_host_info{cluster=~"$cluster"}, host)') == (
        'group by (host) (ovtui_host_info{cluster=~".*"})'
    )
    queries = [q for d in dashboards().values() for _, q in variable_queries(d)]
    assert queries and all("$" not in concrete(q) for q in queries)
    exprs = [e for d in dashboards().values() for _, e in panel_exprs(d)]
    assert all("$" not in concrete(e) for e in exprs)


def test_measured_panels_say_so() -> None:
    # panels that read only real-libvirtd counters are marked, so an empty demo panel is explained
    from collectors.host_metrics import MEASURED_ONLY as HOST
    from collectors.vm_metrics import MEASURED_ONLY as VM

    for name, dash in dashboards().items():
        for p in panels(dash):
            exprs = [t["expr"] for t in p.get("targets", [])]
            if exprs and all(any(m in e for m in HOST | VM) for e in exprs):
                assert "(measured)" in p["title"], (name, p["title"])
