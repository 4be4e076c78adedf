"""A lab of real libvirtd hosts running real QEMU guests on one machine (issue 3).

From Python (a test fixture):

    lab = Lab(root=tmp_path)           # or Lab() for /var/lib/ovtui-lab ($OVTUI_LAB_ROOT)
    report = lab.up(hosts=2, guests=3)  # root only; idempotent
    lab.config_path                     # ovtui TOML for this lab
    lab.uris()                          # {"h1": "qemu+unix:///system?socket=...", ...}
    lab.set_load("vm1", 1); lab.fail("h2"); lab.heal("h2"); lab.down()
    lab.kill_daemon("h2")               # SIGKILL its libvirtd by PID (the host goes with it)
    lab.qemu_pids("h1", "vm1")          # QEMU processes of a guest on a host

Modules: paths (where things live), packages (apt), image/cpio/guestinit (the guest), host and
hostinit (one libvirtd in its namespaces), guests (domain XML, console load knob), state,
config (ovtui TOML), lab (orchestration), report, cli.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ovtui.lab.lab import Lab, LabError
    from ovtui.lab.report import GuestInfo, HostInfo, LabReport

__all__ = ["GuestInfo", "HostInfo", "Lab", "LabError", "LabReport"]


def __getattr__(name: str) -> Any:
    """Loaded on first use: every `ovtui` command builds the `lab` subcommand's parser
    (ovtui.lab.cli), and that must not cost the lab's modules and libvirt (~80 ms)."""
    if name in ("Lab", "LabError"):
        from ovtui.lab import lab

        return getattr(lab, name)
    if name in ("GuestInfo", "HostInfo", "LabReport"):
        from ovtui.lab import report

        return getattr(report, name)
    raise AttributeError(f"module 'ovtui.lab' has no attribute {name!r}")
