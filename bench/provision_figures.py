"""Issue 12 figures: provisioning 10 VMs from a template on a real lab (2 hosts, TCG guests).

- thin / full: 10 VMs from template `base` (a lab guest's kernel and initrd, one 64 MiB qcow2
               disk) through the engine's API (POST /clusters/{c}/vms with start and a
               cloud-init hostname): seconds per create call (placement, overlay or copy of the
               disk, the seed built with cloud-localds and uploaded, define, start), and from
               the call until the guest prints the hostname its seed gave (serial console)
- floor:       the same 10 done directly: `qemu-img create -b` (an overlay on the template's
               volume) + defineXML + create on the host's libvirt connection, no seed
The guests of one round run together (10 TCG guests on 2 cores): later ones boot slower. The
floor defines its 10 on gold's host only (no scheduler), overlays on the same template volume.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
import uuid as uuidlib
from pathlib import Path
from typing import Any

from auth.local_users import LocalUser, write_local_users
from auth.passwords import hash_password
from bench.common import print_table, save
from ovtui.client import Client
from ovtui.config import load_config
from ovtui.demo import start_engine, stop_engine
from ovtui.lab import Lab, guestinit, guests
from ovtui.lab.conn import quiet_libvirt

N = 10
MIB = 1 << 20


def _wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except Exception:  # the engine is still starting
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise SystemExit(f"{what}: not within {timeout:.0f} s")


def _row(what: str, per_vm: list[float], hostname: list[float] | None) -> dict[str, Any]:
    return {
        "what": what,
        "s_per_vm_median": round(statistics.median(per_vm), 2),
        "s_per_vm_max": round(max(per_vm), 2),
        "hostname_s_median": round(statistics.median(hostname), 1) if hostname else "-",
        "hostname_s_max": round(max(hostname), 1) if hostname else "-",
    }


def _round(client: Client, lab: Lab, cluster: str, thin: bool) -> dict[str, Any]:
    mode = "thin" if thin else "full"
    per_vm, began, where = [], {}, {}
    for i in range(1, N + 1):
        name = f"{mode}-{i}"
        began[name] = time.monotonic()
        body = {"name": name, "template": "base", "thin": thin, "memory_mib": 96,
                "cloud_init": {"hostname": f"host-{name}"}, "start": True}  # fmt: skip
        where[name] = client.post(f"/api/v1/clusters/{cluster}/vms", body)["host"]
        per_vm.append(time.monotonic() - began[name])
    conns = {h: lab.connect(h) for h in set(where.values())}
    seen: dict[str, float] = {}
    try:
        logs = {n: guests.serial_log_of(conns[h].lookupByName(n)) for n, h in where.items()}

        def all_seen() -> bool:
            for n, log in logs.items():
                if n not in seen and log.exists():
                    got = guestinit.cloud_init(log.read_text(errors="replace"))
                    if got and got[0] == f"host-{n}":
                        seen[n] = time.monotonic() - began[n]
            return len(seen) == len(logs)

        _wait(all_seen, 300, f"{mode}: every guest's cloud-init hostname")
    finally:
        for conn in conns.values():
            conn.close()
    for name in began:
        client.post(f"/api/v1/vms/{name}/poweroff")
        client.request("DELETE", f"/api/v1/vms/{name}", params={"disks": True})
    return _row(
        f"{N} VMs from a template, {mode} (API, with cloud-init)", per_vm, list(seen.values())
    )


def _floor(client: Client, lab: Lab) -> dict[str, Any]:
    """qemu-img create -b + defineXML + create, directly on the host."""
    base = next(d for d in client.get("/api/v1/disks") if d["volume"] == "base-tpl-disk1.qcow2")
    host = next(v["host"] for v in client.get("/api/v1/vms") if v["name"] == "gold")
    conn = lab.connect(host)
    xml = conn.lookupByName("gold").XMLDesc(2)  # VIR_DOMAIN_XML_INACTIVE
    per_vm, made = [], []
    tmp = Path(base["path"]).parent
    try:
        for i in range(1, N + 1):
            name = f"floor-{i}"
            overlay = tmp / f"{name}.qcow2"
            began = time.monotonic()
            subprocess.run(
                ["qemu-img", "create", "-q", "-f", "qcow2", "-b", base["path"], "-F", "qcow2",
                 str(overlay)], check=True)  # fmt: skip
            dom_xml = (
                xml.replace("<name>gold</name>", f"<name>{name}</name>")
                .replace(_between(xml, "<uuid>", "</uuid>"), str(uuidlib.uuid4()))
                .replace("gold.log", f"{name}.log")
            )
            dom_xml = _file_disk(dom_xml, str(overlay))
            dom = conn.defineXML(dom_xml)
            dom.create()
            per_vm.append(time.monotonic() - began)
            made.append((dom, overlay))
    finally:
        for dom, overlay in made:
            dom.destroy()
            dom.undefine()
            overlay.unlink(missing_ok=True)
        conn.close()
    return _row(f"floor: {N} x (qemu-img create -b + defineXML + create)", per_vm, None)


def _between(text: str, a: str, b: str) -> str:
    return text.split(a, 1)[1].split(b, 1)[0]


def _file_disk(xml: str, path: str) -> str:
    """The first disk as a plain file (no pool), the seed disk dropped."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml)
    devices = root.find("devices")
    assert devices is not None
    disks = devices.findall("disk")
    for d in disks[1:]:
        devices.remove(d)
    first = disks[0]
    first.set("type", "file")
    src = first.find("source")
    assert src is not None
    src.attrib.clear()
    src.set("file", path)
    for nic in devices.findall("interface"):
        devices.remove(nic)
    return ET.tostring(root, encoding="unicode")


def run(lab: Lab) -> list[dict[str, Any]]:
    config = load_config(lab.config_path)
    users = config.auth.local_users_file
    assert users is not None
    write_local_users(
        users, [LocalUser("admin", hash_password("bench", n=2**12), frozenset({"SuperUser"}))]
    )
    proc = start_engine(lab.config_path, lab.root / "engine-bench.log")
    try:
        sock = config.api.socket
        client = _wait(
            lambda: Client(sock, Client(sock).login("admin", "bench")["token"]), 60, "engine up"
        )
        _wait(
            lambda: all(d["state"] == "active" for d in client.get("/api/v1/storage")),
            60,
            "storage domains active",
        )
        cluster = config.clusters[0].name
        _wait(lambda: client.post("/api/v1/vms/vm1/poweroff"), 30, "vm1 off")
        client.post("/api/v1/vms/vm1/template", {"name": "lab"})
        body = {"name": "gold", "template": "lab", "memory_mib": 96,
                "disks": [{"storage": "shared", "size_bytes": 64 * MIB}]}  # fmt: skip
        client.post(f"/api/v1/clusters/{cluster}/vms", body)
        _wait(lambda: any(v["name"] == "gold" for v in client.get("/api/v1/vms")), 30, "gold")
        client.post("/api/v1/vms/gold/template", {"name": "base"})
        rows = [_round(client, lab, cluster, thin) for thin in (True, False)]
        rows.append(_floor(client, lab))
    finally:
        stop_engine(proc)
    return rows


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the lab runs libvirtd and QEMU as root: run as root")
    quiet_libvirt()
    lab = Lab(root=Path(tempfile.mkdtemp(prefix="ovtui-bench-", dir="/tmp")))
    try:
        lab.up(hosts=2, guests=1)  # 10 one-vCPU guests need 2 hosts at MaxVcpusPerCpu 4
        rows = run(lab)
    finally:
        lab.down()
    print_table(rows)
    print("saved", save("provision_lab", rows, __doc__ or ""))


if __name__ == "__main__":
    main()
