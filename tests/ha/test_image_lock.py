"""QEMU's image-lock refusal, found in a failed start's libvirt error (text measured in the lab:
libvirt 9.0, QEMU 7.2, two lab hosts sharing a directory)."""

from __future__ import annotations

from ovtui.fleet.errors import FleetError
from ovtui.fleet.image_lock import locked_image
from ovtui.ha.service import _lock_refusal

MEASURED = (
    "internal error: qemu unexpectedly closed the monitor: 2026-12-02T01:03:53.422360Z "
    'qemu-system-x86_64: -blockdev {"node-name":"libvirt-2-format","read-only":false,'
    '"driver":"qcow2","file":"libvirt-2-storage","backing":null}: Failed to get "write" lock\n'
    "Is another process using the image [/tmp/lab/storage/shared/dbg.qcow2]?"
)


def test_the_locked_image_is_named() -> None:
    assert locked_image(MEASURED) == "/tmp/lab/storage/shared/dbg.qcow2"
    assert locked_image(MEASURED.split("\n")[0]) == ""  # a lock, path not given
    assert locked_image("internal error: process exited: Could not open '/x': No such file") is None


def test_a_refused_restart_says_what_to_do() -> None:
    exc = FleetError("define and start vm2 on h1 failed: internal error: qemu ...", raw=MEASURED)
    refusal = _lock_refusal(exc, "vm2", "h1", "h2")
    assert refusal is not None and refusal.kind == "conflict" and refusal.raw == MEASURED
    assert refusal.message == (
        "vm2 not started on h1: its disk /tmp/lab/storage/shared/dbg.qcow2 is locked by another "
        "QEMU (image lock) - a copy may still be running on h2; make sure h2 is powered off"
    )
    other = FleetError("start failed", raw="Storage volume not found")
    assert _lock_refusal(other, "vm2", "h1", "h2") is None
