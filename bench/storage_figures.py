"""Issue 11 figures: disks and a live disk move on a real lab (one host, one TCG guest).

- create:  1 GiB disks of each kind on the `shared` domain through the engine's API: wall time
           of the call, and the allocation measured on disk right after (st_blocks)
- move:    a 1 GiB raw disk full of random data, attached to the running guest while the guest
           writes its pattern, moved live from `shared` (a directory) to the iSCSI LUN of `san`
           (tgtd on loopback) by the engine (POST /vms/{vm}/disks/{dev}/move); total = the call,
           copy = copying -> ready, pivot = the pivot stage (the guest's I/O switch-over),
           throughput = 1 GiB / copy
- floor:   `qemu-img convert` of the same file to the same LUN (iscsi://), on the same machine,
           and to a file in the same directory, before the move
Every figure includes the guest's and the other lab processes' load on this machine's 2 cores.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from auth.local_users import LocalUser, write_local_users
from auth.passwords import hash_password
from bench.common import print_table, save
from ovtui.client import Client
from ovtui.config import load_config
from ovtui.demo import start_engine, stop_engine
from ovtui.lab import Lab, guest_disk
from ovtui.lab.conn import quiet_libvirt

GIB = 1 << 30
KINDS = (("qcow2", "thin"), ("raw", "thin"), ("raw", "preallocated"), ("qcow2", "preallocated"))


def _wait(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except Exception:  # the engine is still starting
            found = None
        if found:
            return found
        time.sleep(0.5)
    raise SystemExit(f"{what}: not within {timeout:.0f} s")


def _stage_times(history: list[list[Any]]) -> dict[str, float]:
    return {stage: float(when) for stage, when in history}


def run(lab: Lab) -> list[dict[str, Any]]:
    config = load_config(lab.config_path)
    users = config.auth.local_users_file
    assert users is not None
    write_local_users(
        users, [LocalUser("admin", hash_password("bench", n=2**12), frozenset({"SuperUser"}))]
    )
    log = lab.root / "engine-bench.log"
    proc = start_engine(lab.config_path, log)
    rows: list[dict[str, Any]] = []
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
        for fmt, alloc in KINDS:
            name = f"bench-{fmt}-{alloc}"
            began = time.perf_counter()
            made = client.post(
                "/api/v1/storage/shared/disks",
                {"name": name, "size_bytes": GIB, "format": fmt, "allocation": alloc},
            )
            took = time.perf_counter() - began
            on_disk = os.stat(made["disk"]["path"]).st_blocks * 512
            rows.append(
                {
                    "what": f"create 1 GiB {fmt} {alloc}",
                    "s": round(took, 3),
                    "allocated_mib": round(on_disk / (1 << 20), 1),
                    "mib_s": "-",
                }
            )
            client.request("DELETE", f"/api/v1/storage/shared/disks/{name}")
        made = client.post(
            "/api/v1/storage/shared/disks",
            {"name": "bench-move", "size_bytes": GIB, "format": "raw"},
        )
        src = made["disk"]["path"]
        subprocess.run(
            [
                "dd",
                "if=/dev/urandom",
                f"of={src}",
                "bs=4M",
                "count=256",
                "conv=notrunc",
                "status=none",
            ],
            check=True,
        )
        san = next(d for d in config.storage_domains if d.name == "san")
        lun = f"iscsi://{san.portal}/{san.target}/3"
        with tempfile.TemporaryDirectory(dir=Path(src).parent) as tmp:
            for what, argv in (
                ("floor: qemu-img convert file -> file", ["-O", "raw", src, f"{tmp}/copy.img"]),
                ("floor: qemu-img convert file -> iSCSI LUN", ["-n", "-O", "raw", src, lun]),
            ):
                began = time.perf_counter()
                subprocess.run(["qemu-img", "convert", *argv], check=True, capture_output=True)
                took = time.perf_counter() - began
                rows.append(
                    {
                        "what": what,
                        "s": round(took, 2),
                        "allocated_mib": "-",
                        "mib_s": round(1024 / took, 1),
                    }
                )
        dev = client.post("/api/v1/vms/vm1/disks", {"storage": "shared", "disk": "bench-move"})
        conn = lab.connect("h1")
        try:
            guest_disk.start_writing(conn.lookupByName("vm1"), dev["target"], 2000)
            began = time.perf_counter()
            moved = client.post(
                f"/api/v1/vms/vm1/disks/{dev['target']}/move",
                {"storage": "san", "volume": "unit:0:0:3"},
            )
            total = time.perf_counter() - began
        finally:
            conn.close()
        t = _stage_times(moved["history"])
        copy = t["ready"] - t["copying"]
        rows.append(
            {
                "what": "live move 1 GiB shared -> iSCSI (guest writing)",
                "s": round(total, 2),
                "allocated_mib": "-",
                "mib_s": round(1024 / copy, 1),
            }
        )
        rows.append(
            {
                "what": "  of which copy (copying -> ready)",
                "s": round(copy, 2),
                "allocated_mib": "-",
                "mib_s": "-",
            }
        )
        rows.append(
            {
                "what": "  of which pivot (ready -> pivoted)",
                "s": round(t["pivoted"] - t["ready"], 3),
                "allocated_mib": "-",
                "mib_s": "-",
            }
        )
    finally:
        stop_engine(proc)
    return rows


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the lab runs libvirtd, QEMU and tgtd as root: run as root")
    quiet_libvirt()
    lab = Lab(root=Path(tempfile.mkdtemp(prefix="ovtui-bench-", dir="/tmp")))
    try:
        lab.up(hosts=1, guests=1)
        rows = run(lab)
    finally:
        lab.down()
    print_table(rows)
    print("saved", save("storage_lab", rows, __doc__ or ""))


if __name__ == "__main__":
    main()
