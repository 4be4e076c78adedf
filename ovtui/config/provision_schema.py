"""[provision]: how the engine defines the VMs it provisions."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class ProvisionSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The domain type of new VMs on QEMU hosts: kvm (hardware virtualisation), or qemu (TCG,
    # for hosts without it, such as the lab). Test-driver hosts always get `test`.
    virt_type: Literal["kvm", "qemu"] = "kvm"
