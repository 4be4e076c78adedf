"""ovtui's templates through the oVirt subset, with the real SDK and ovirt.ovirt: listed and
got (IDs derived from the name), searched by name and by `vm.name`, and each VM's template link
names the template ovtui made it from (Blank for the others)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

sdk = pytest.importorskip("ovirtsdk4")

from ovtui.api.ovirt.ids import BLANK_TEMPLATE_ID, stable_id  # noqa: E402
from ovtui.config.storage_schema import StorageDomainConfig  # noqa: E402
from tests.conftest import API, PASSWORD  # noqa: E402
from tests.ovirt.ansible_run import run  # noqa: E402
from tests.ovirt.conftest import OvirtEngine, ovirt_config, start  # noqa: E402
from tests.storage.helpers import all_read, wait_storage  # noqa: E402

GIB = 1 << 30
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def engine() -> Iterator[OvirtEngine]:
    config, ca = ovirt_config()
    shared = StorageDomainConfig(
        name="shared", datacenter="dc1", type="shared_dir", path=Path("/srv/s")
    )
    running = start(config.model_copy(update={"storage_domains": [shared]}), ca)
    admin = running.live.as_role("SuperUser")
    wait_storage(admin, all_read)
    golden = {"name": "golden", "disks": [{"storage": "shared", "size_bytes": GIB}], "host": "h2"}
    assert admin.post(f"{API}/clusters/c1/vms", json=golden).status_code == 201
    made = admin.post(f"{API}/vms/golden/template", json={"name": "web", "description": "web"})
    assert made.status_code == 201, made.text
    w1 = admin.post(f"{API}/clusters/c1/vms", json={"name": "w1", "template": "web", "host": "h2"})
    assert w1.status_code == 201, w1.text
    running.live.settle()
    yield running
    running.live.stop()


def test_templates_list_get_search_and_vm_links(engine: OvirtEngine) -> None:
    web_id = stable_id("template", "web")
    with engine.connection() as conn:
        service = conn.system_service().templates_service()
        assert [t.name for t in service.list()] == ["Blank", "web"]
        [web] = service.list(search="name=web")
        assert web.id == web_id and web.description == "web"
        assert web.comment == "made from golden by admin"
        got = service.template_service(web_id).get()
        assert got.name == "web" and got.creation_time is not None
        assert [t.name for t in service.list(search="vm.name=w1")] == ["web"]
        assert [t.name for t in service.list(search="vm.name=golden")] == ["Blank"]
        # as ovirt_vm asks: by name in the cluster's data center (Blank is in every one)
        assert [t.name for t in service.list(search="name=web and datacenter=dc1")] == ["web"]
        assert [t.name for t in service.list(search="datacenter=dc2")] == ["Blank"]
        with pytest.raises(sdk.NotFoundError, match="templates: Blank, web"):
            service.template_service(stable_id("template", "nope")).get()
        vms = conn.system_service().vms_service()
        [w1] = vms.list(search="name=w1")
        assert w1.template.id == web_id and conn.follow_link(w1.template).name == "web"
        [web1] = vms.list(search="name=web-1")
        assert web1.template.id == BLANK_TEMPLATE_ID


def test_ovirt_modules_read_templates_and_creating_is_a_clear_fault(
    engine: OvirtEngine, tmp_path: Path
) -> None:
    out = tmp_path / "results.json"
    extra = {"engine_url": engine.url, "ca_file": str(engine.ca), "out": str(out)}
    done = run(
        "ansible-playbook", "-i", "localhost,", str(HERE / "templates_playbook.yml"),
        "-e", json.dumps(extra),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    r = json.loads(out.read_text())
    assert [t["name"] for t in r["tpl_info"]["ovirt_templates"]] == ["web"]
    assert r["create"]["failed"]
    assert "POST /ovirt-engine/api/vms is not in ovtui's oVirt API subset" in r["create"]["msg"]
    assert not engine.live.engine.snapshot().vms_named("w2")  # nothing half-made
    # ovirt_vm on a VM already made from the template: it finds it and the template, no change
    assert not r["existing"]["failed"] and r["existing"]["changed"] is False
    assert PASSWORD == "demo"  # the playbook's password
