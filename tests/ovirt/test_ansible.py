"""ansible-playbook with the ovirt.ovirt modules (ansible 12.3.0's 3.2.1, unmodified) and the
ovirt.ovirt.ovirt inventory plugin, against an engine on loopback TLS with a CA made here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ovtui.api.ovirt.ids import stable_id
from tests.ovirt.ansible_run import run
from tests.ovirt.conftest import OvirtEngine, ovirt_config, start

pytest.importorskip("ovirtsdk4")
HERE = Path(__file__).parent
pytestmark = pytest.mark.slow  # a playbook of 17 module runs, each a fresh Python: ~30 s


@pytest.fixture
def engine() -> Iterator[OvirtEngine]:
    config, ca = ovirt_config()
    started = start(config, ca)
    yield started
    started.live.stop()


def test_playbook_of_ovirt_modules_is_idempotent(engine: OvirtEngine, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = run(
        "ansible-playbook", "-i", "localhost,", str(HERE / "playbook.yml"),
        "-e", f"engine_url={engine.url} ca_file={engine.ca} out={out}",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    r = json.loads(out.read_text())
    [vm] = r["vm_info"]["ovirt_vms"]
    assert vm["name"] == "web-2" and vm["host"]["id"] == stable_id("host", "h1")
    assert len(r["event_info"]["ovirt_events"]) == 2
    assert r["host_info"]["ovirt_hosts"][0]["status"] == "up"
    assert {c["name"] for c in r["cluster_info"]["ovirt_clusters"]} == {"c1", "c2"}
    assert {d["name"] for d in r["dc_info"]["ovirt_datacenters"]} == {"dc1", "dc2"}
    changed = {k: v["changed"] for k, v in r.items() if "changed" in v}
    assert changed == {
        "vm_info": False, "event_info": False, "host_info": False, "cluster_info": False,
        "dc_info": False,
        "stop1": True, "stop2": False, "run1": True, "run2": False,
        "migrate1": True, "migrate2": False, "maint1": True, "maint2": False,
        "present1": True, "present2": False,
    }  # fmt: skip
    snap = engine.live.engine.snapshot()
    assert snap.host("h2").maintenance is False  # type: ignore[union-attr]
    actions = [rec["action"] for rec in engine.live.engine.audit_log.tail(200)]
    for action in ("vm.shutdown", "vm.start", "vm.migrate", "host.maintenance", "host.activate"):
        assert action in actions


def test_inventory_plugin_lists_the_vms(engine: OvirtEngine, tmp_path: Path) -> None:
    source = tmp_path / "fleet.ovirt.yml"
    source.write_text(
        "plugin: ovirt.ovirt.ovirt\n"
        f"ovirt_url: {engine.url}\novirt_username: admin@internal\novirt_password: demo\n"
        f"ovirt_cafile: {engine.ca}\n"
        "groups:\n  running: \"status == 'up'\"\n"
        "keyed_groups:\n  - key: cluster\n    prefix: cluster\n"
    )
    done = run("ansible-inventory", "-i", str(source), "--list")
    assert done.returncode == 0, done.stderr[-3000:]
    inventory = json.loads(done.stdout)
    hostvars = inventory["_meta"]["hostvars"]
    names = {v.name for v in engine.live.engine.snapshot().vms}
    assert set(hostvars) == names
    web = {k: _plain(v) for k, v in hostvars["web-1"].items()}
    assert web["host"] == "h1" and web["cluster"] == "c1" and web["template"] == "Blank"
    assert "off-1" not in inventory["running"]["hosts"]
    assert "other-1" in inventory["cluster_c2"]["hosts"]


def _plain(value: object) -> object:
    """ansible-inventory --list marks strings from a plugin as {"__ansible_unsafe": ...}."""
    if isinstance(value, dict) and set(value) == {"__ansible_unsafe"}:
        return value["__ansible_unsafe"]
    return value
