"""[hosts.power]: how the engine switches a host off and on (and fences it).

kind = "command": argv lists run without a shell (ovtui/executor/power/command.py).
kind = "ipmi": a BMC over IPMI-over-LAN, driven by Debian's fence_ipmilan (fence-agents) or by
ipmitool (ovtui/executor/power/ipmi.py). The password is a SecretRef: never in the file.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ovtui.config.base import Strict
from ovtui.config.secrets import SecretRef

_IPMI_NEEDS = ("address", "user", "password")


class PowerConfig(Strict):
    kind: Literal["none", "command", "ipmi"] = "none"
    # kind = "command"
    on: list[str] | None = None
    off: list[str] | None = None
    status: list[str] | None = None  # exit 0: on; 2 or 3 (fence agents, LSB status): off
    reboot: list[str] | None = None
    # kind = "ipmi"
    agent: Literal["fence_ipmilan", "ipmitool"] = "fence_ipmilan"
    address: str | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 623
    user: str | None = None
    lanplus: bool = True
    # Cipher suite 3 (RMCP+, HMAC-SHA1, AES): without an explicit suite ipmitool asks the BMC
    # for its list first, which stalls ~10 s on many BMCs (notes/LAB.md).
    cipher: Annotated[int, Field(ge=0, le=17)] | None = 3
    # both kinds
    password: SecretRef | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 60.0
    # Soft fence: tried before the hard fence, e.g. ["ssh", "root@h1", "systemctl restart
    # libvirtd"]; a host that answers again afterwards is not power-cycled.
    soft_fence: list[str] | None = None

    @model_validator(mode="after")
    def _complete(self) -> PowerConfig:
        if self.kind == "command" and not (self.on and self.off):
            raise ValueError('kind = "command" needs both on = [...] and off = [...] commands')
        if self.kind == "none":
            keys = ("on", "off", "status", "reboot", "password", "address", "user", "soft_fence")
            given = [k for k in keys if getattr(self, k) is not None]
            if given:
                raise ValueError(
                    f'{", ".join(given)} would never be used with kind = "none": set kind = '
                    '"command" or "ipmi", or remove them'
                )
        if self.kind == "ipmi":
            missing = [k for k in _IPMI_NEEDS if getattr(self, k) in (None, "")]
            if missing:
                raise ValueError(
                    f'kind = "ipmi" needs {", ".join(missing)} (address = "BMC host", '
                    'user = "...", password = { file = "/path" } or { env = "VAR" })'
                )
            given = [k for k in ("on", "off", "status", "reboot") if getattr(self, k)]
            if given:
                raise ValueError(
                    f'{", ".join(given)} are commands of kind = "command": remove them from '
                    'kind = "ipmi"'
                )
        return self
