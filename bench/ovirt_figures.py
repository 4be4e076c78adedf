"""oVirt tooling against the demo engine (121 VMs, 7 hosts), next to the native API.

- sdk_list:      ovirtsdk4 `vms_service().list()` over TLS (XML, every VM), median of `repeat`
- native_list:   GET /api/v1/vms over the Unix socket (JSON), median of `repeat` (the floor:
                 the same snapshot, without XML or TLS)
  (answers over 8 kB are gzipped, as the SDK asks: uncompressed, the SDK's pycurl loop often
  waited out its 1 s select() on the 217 kB list; medians were ~1.08 s before)
- ovirt_vm_noop: one `ansible-playbook` run of `ovirt.ovirt.ovirt_vm state=running` on a VM that
                 runs (idempotent: changed=false), median of 3; a fresh Python, SDK and token
- native_noop:   what the same decision costs on the native API: sign in, GET the VM, nothing
                 to do (median of `repeat`)
- ovtui_vm_noop: one `ansible-playbook` run of the native `ovtui.ovtui.vm state=running` on the
                 Unix socket (idempotent), median of 3
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import med_ms, print_table, save, timed
from ovtui.client import Client
from ovtui.demo import DEMO_PASSWORD, free_port, prepare_demo, start_engine, stop_engine, wait_ready

NATIVE_PLAY = """- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ovtui.ovtui.vm:
        auth: {{socket: "{socket}", username: admin, password: demo}}
        name: web-frontend-01
        state: running
      register: result
    - ansible.builtin.assert: {{that: [not result.changed]}}
"""
PLAY = """- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ovirt.ovirt.ovirt_vm:
        auth: {{url: "{url}", username: admin@internal, password: demo, ca_file: "{ca}"}}
        name: web-frontend-01
        state: running
      register: result
    - ansible.builtin.assert: {{that: [not result.changed]}}
"""


def _install_collection(root: Path, bin_dir: Path) -> Path:
    source = Path(__file__).resolve().parents[1] / "appliance" / "ansible"
    galaxy = [str(bin_dir / "ansible-galaxy"), "collection"]
    dist = root / "dist"
    subprocess.run([*galaxy, "build", "--output-path", str(dist), str(source)], check=True,
                   capture_output=True)  # fmt: skip
    [tarball] = dist.glob("*.tar.gz")
    subprocess.run([*galaxy, "install", "-p", str(root / "collections"), str(tarball)],
                   check=True, capture_output=True)  # fmt: skip
    return root / "collections"


def main(repeat: int = 20) -> None:
    import ovirtsdk4 as sdk

    root = Path(tempfile.mkdtemp(prefix="ovb-"))
    port = free_port()
    config = prepare_demo(root, port)
    log = root / "engine.log"
    proc = start_engine(config, log)
    try:
        wait_ready(root / "api.sock", proc, log, timeout=60)
        url, ca = f"https://127.0.0.1:{port}/ovirt-engine/api", root / "ca.pem"
        conn = sdk.Connection(url=url, username="admin@internal", password="demo", ca_file=str(ca))
        vms = conn.system_service().vms_service()
        count = len(vms.list())
        sdk_list = timed(vms.list, repeat)
        conn.close()
        client = Client(root / "api.sock")
        client.login("admin", DEMO_PASSWORD)
        native_list = timed(lambda: client.get("/api/v1/vms"), repeat)

        def native_noop() -> None:
            c = Client(root / "api.sock")
            c.login("admin", DEMO_PASSWORD)
            assert c.get("/api/v1/vms/web-frontend-01")["state"] == "running"

        noop = timed(native_noop, repeat)
        play = root / "play.yml"
        play.write_text(PLAY.format(url=url, ca=ca))
        bin_dir = Path(sys.executable).parent
        env = {"ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_LOCALHOST_WARNING": "False",
               "PATH": f"{bin_dir}:/usr/bin:/bin"}  # fmt: skip

        def playbook() -> None:
            done = subprocess.run(
                [str(bin_dir / "ansible-playbook"), "-i", "localhost,", str(play)],
                capture_output=True, text=True, env=env,
            )  # fmt: skip
            assert done.returncode == 0, done.stdout[-2000:]

        ovirt_vm = timed(playbook, 3)
        collections = _install_collection(root, bin_dir)
        native = root / "native.yml"
        native.write_text(NATIVE_PLAY.format(socket=root / "api.sock"))
        env["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
        play = native
        ovtui_vm = timed(playbook, 3)
    finally:
        stop_engine(proc)
    rows = [
        {"what": "list every VM", "vms": count, "ovirt_sdk_ms": med_ms(sdk_list),
         "native_ms": med_ms(native_list)},
        {"what": "idempotent VM running (API calls)", "vms": 1, "ovirt_sdk_ms": "-",
         "native_ms": med_ms(noop)},
        {"what": "idempotent VM running (ansible-playbook)", "vms": 1,
         "ovirt_sdk_ms": med_ms(ovirt_vm), "native_ms": med_ms(ovtui_vm)},
    ]  # fmt: skip
    print_table(rows)
    notes = __doc__ or ""
    print(f"saved {save('ovirt', rows, notes)}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
