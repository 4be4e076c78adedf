"""The native collection ovtui.ovtui: built with ansible-galaxy, checked with `ansible-test
sanity`, and run against an engine (Unix socket and TLS) in a playbook and as inventory."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.ovirt.ansible_run import run
from tests.ovirt.collection import ansible_test_home, build_and_install
from tests.ovirt.conftest import OvirtEngine, ovirt_config, start

HERE = Path(__file__).parent
pytestmark = pytest.mark.slow  # ansible-test sanity (~2 min on first run) and 19 module runs


@pytest.fixture(scope="module")
def collections(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_and_install(tmp_path_factory.mktemp("collections"))


@pytest.fixture
def engine() -> Iterator[OvirtEngine]:
    config, ca = ovirt_config()
    started = start(config, ca)
    yield started
    started.live.stop()


def test_ansible_test_sanity_passes(collections: Path) -> None:
    home = ansible_test_home()
    done = run(
        "ansible-test", "sanity", "--python", "3.11",
        cwd=collections / "ansible_collections" / "ovtui" / "ovtui",
        env={"HOME": str(home), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},
        timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]


def _auth(engine: OvirtEngine) -> tuple[str, str]:
    socket = {"socket": str(engine.live.socket), "username": "admin", "password": PASSWORD}
    url = engine.url.removesuffix("/ovirt-engine/api")
    tls = {"url": url, "ca_file": str(engine.ca), "username": "viewer", "password": PASSWORD}
    return json.dumps(socket), json.dumps(tls)


def test_playbook_of_native_modules(engine: OvirtEngine, collections: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    socket, tls = _auth(engine)
    extra = json.dumps({"auth_socket": json.loads(socket), "auth_tls": json.loads(tls),
                        "out": str(out)})  # fmt: skip
    done = run(
        "ansible-playbook", "-i", "localhost,", str(HERE / "native_playbook.yml"), "-e", extra,
        env={"ANSIBLE_COLLECTIONS_PATH": str(collections)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    r = json.loads(out.read_text())
    assert sorted(v["name"] for v in r["vm_info"]["ovtui_vms"]) == ["web-1", "web-2"]
    assert [h["name"] for h in r["host_info"]["ovtui_hosts"]] == ["h2"]  # over TLS, as viewer
    assert {c["name"] for c in r["cluster_info"]["ovtui_clusters"]} == {"c1", "c2"}
    changed = {k: v["changed"] for k, v in r.items() if not k.endswith("_info")}
    assert changed == {
        "check": True, "stop1": True, "stop2": False, "run1": True, "run2": False,
        "migrate1": True, "migrate2": False, "suspend1": True, "suspend2": False,
        "resume1": True, "poweroff1": True, "reboot1": True,
        "maint1": True, "maint2": False, "active1": True, "active2": False,
    }  # fmt: skip
    assert r["check"]["diff"] == {"before": {"state": "running", "host": "h1"},
                                  "after": {"state": "shutdown", "host": "h1"}}  # fmt: skip
    assert r["check"]["vm"]["state"] == "running"  # check mode moved nothing
    assert r["migrate1"]["diff"]["after"]["host"] == "h2"
    assert r["reboot1"]["actions"] == ["start"]  # it was powered off: rebooted = started
    audit = [rec["action"] for rec in engine.live.engine.audit_log.tail(300)]
    for action in ("vm.shutdown", "vm.start", "vm.migrate", "vm.suspend", "vm.resume",
                   "vm.poweroff", "host.maintenance", "host.activate"):  # fmt: skip
        assert action in audit


def test_inventory_groups_by_dc_cluster_host_and_state(
    engine: OvirtEngine, collections: Path, tmp_path: Path
) -> None:
    source = tmp_path / "fleet.ovtui.yml"
    source.write_text(
        f"plugin: ovtui.ovtui.ovtui\nsocket: {engine.live.socket}\n"
        f"username: viewer\npassword: {PASSWORD}\n"
    )
    done = run(
        "ansible-inventory", "-i", str(source), "--list",
        env={"ANSIBLE_COLLECTIONS_PATH": str(collections)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    inv = json.loads(done.stdout)
    snap = engine.live.engine.snapshot()
    assert set(inv["_meta"]["hostvars"]) == {v.name for v in snap.vms}
    assert set(inv["dc_dc2"]["hosts"]) == {"other-1"}
    assert set(inv["cluster_c1"]["hosts"]) == {v.name for v in snap.vms if v.cluster == "c1"}
    assert set(inv["host_h2"]["hosts"]) == {"db-1"}
    assert inv["state_shutoff"]["hosts"] == ["off-1"]
