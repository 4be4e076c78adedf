"""A VM's disks and NICs: in GET /api/v1/vms/{vm}, read from the domain XML; not in the lists."""

from __future__ import annotations

from pathlib import Path

from ovtui.testdriver_fleet import (
    ClusterSpec,
    DatacenterSpec,
    FleetSpec,
    HostSpec,
    VmSpec,
    vm_uuid,
)
from ovtui.testdriver_fleet.files import vm_mac
from tests.conftest import API

SKY = "Skylake-Server"
RICH = VmSpec("rich", 2, 2048, "db")
PLAIN = VmSpec("plain", 1, 1024, "web")
OFF = VmSpec("off", 1, 1024, "batch", running=False)
SPEC = FleetSpec(
    (DatacenterSpec("dc1"),),
    (ClusterSpec("c1", "dc1", SKY),),
    (HostSpec("h1", "c1", 8, 16384, SKY, 2400, (RICH, PLAIN, OFF)),),
)
# What a real domain may carry besides the generated fleet's one file disk and one NIC.
RICH_DEVICES = """<devices>
      <disk type="block" device="disk"><source dev="/dev/vg0/rich-root"/>
        <target dev="vda" bus="virtio"/></disk>
      <disk type="volume" device="disk"><source pool="ssd" volume="rich-data"/>
        <target dev="vdb" bus="virtio"/></disk>
      <disk type="network" device="disk"><source protocol="rbd" name="pool/rich-logs"/>
        <target dev="sda" bus="scsi"/></disk>
      <disk type="file" device="cdrom"><target dev="sdb" bus="sata"/><readonly/></disk>
      <interface type="bridge"><mac address="52:54:00:aa:00:01"/><source bridge="br-prod"/>
        <model type="e1000"/></interface>
      <interface type="direct"><mac address="52:54:00:aa:00:02"/>
        <source dev="eno2" mode="bridge"/><model type="virtio"/><link state="down"/></interface>
    </devices>"""


def _rich_devices(root: Path) -> None:
    node = root / "h1.xml"
    text = node.read_text()
    start = text.index("<devices>", text.index("<name>rich</name>"))
    end = text.index("</devices>", start) + len("</devices>")
    node.write_text(text[:start] + RICH_DEVICES + text[end:])


def test_vm_detail_lists_disks_and_nics_from_the_domain_xml(start_engine) -> None:
    live = start_engine(SPEC, prepare=_rich_devices)
    api = live.as_role("ReadOnly")
    rich = api.get(f"{API}/vms/rich").json()
    assert rich["disks"] == [
        {
            "target": "vda",
            "device": "disk",
            "bus": "virtio",
            "source_type": "block",
            "source": "/dev/vg0/rich-root",
        },
        {
            "target": "vdb",
            "device": "disk",
            "bus": "virtio",
            "source_type": "volume",
            "source": "ssd/rich-data",
        },
        {
            "target": "sda",
            "device": "disk",
            "bus": "scsi",
            "source_type": "network",
            "source": "rbd:pool/rich-logs",
        },
        {"target": "sdb", "device": "cdrom", "bus": "sata", "source_type": "", "source": ""},
    ]
    # Running: each NIC has its host-side device (the test driver names them testnetN).
    assert [{k: v for k, v in n.items() if k != "target"} for n in rich["nics"]] == [
        {"mac": "52:54:00:aa:00:01", "type": "bridge", "source": "br-prod", "model": "e1000",
         "link": "up"},
        {"mac": "52:54:00:aa:00:02", "type": "direct", "source": "eno2", "model": "virtio",
         "link": "down"},
    ]  # fmt: skip
    assert all(n["target"] for n in rich["nics"])

    # The generated fleet's VMs: one file disk, one NIC on "default" with a stable MAC.
    plain = api.get(f"{API}/vms/{vm_uuid('plain')}").json()
    assert plain["disks"] == [
        {
            "target": "vda",
            "device": "disk",
            "bus": "virtio",
            "source_type": "file",
            "source": "/var/lib/libvirt/images/plain.qcow2",
        }
    ]
    assert [(n["mac"], n["type"], n["source"], n["model"]) for n in plain["nics"]] == [
        (vm_mac(PLAIN), "network", "default", "virtio")
    ]
    # Shut off: no host-side device, whatever the driver's XML says.
    off = api.get(f"{API}/vms/off").json()
    assert [n["target"] for n in off["nics"]] == [""]
    assert off["memory_current_mib"] == 1024


def test_lists_stay_lean_without_devices(start_engine) -> None:
    live = start_engine(SPEC)
    api = live.as_role("ReadOnly")
    listed = api.get(f"{API}/vms").json()
    assert len(listed) == 3
    assert all("disks" not in v and "nics" not in v and "devices" not in v for v in listed)
    host = api.get(f"{API}/hosts/h1").json()
    assert all("disks" not in v and "devices" not in v for v in host["vms"])
    # and the detail is the list's record plus the devices, nothing else
    detail = api.get(f"{API}/vms/rich").json()
    row = next(v for v in listed if v["name"] == "rich")
    assert set(detail) - set(row) == {"disks", "nics"} and set(row) <= set(detail)
    assert (detail["uuid"], detail["memory_current_mib"]) == (row["uuid"], 2048)
