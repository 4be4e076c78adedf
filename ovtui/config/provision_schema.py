"""[provision]: how the engine defines the VMs it provisions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from ovtui.config.base import Strict


class ProvisionSection(Strict):  # unknown keys refused, TOML types as written, absolute paths
    # The domain type of new VMs on QEMU hosts: kvm (hardware virtualisation), or qemu (TCG,
    # for hosts without it, such as the lab). Test-driver hosts always get `test`.
    virt_type: Literal["kvm", "qemu"] = "kvm"
    # Hooks (ovtui.provision.hooks): executables in hooks_dir/<event>/, run in name order
    # without a shell; None: no hooks. A hook running longer than the timeout is killed.
    hooks_dir: Path | None = None
    hook_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    # Import (ovtui.provision.importer): the directory whose images and OVAs the engine may read;
    # None: import is off.
    import_dir: Path | None = None
