"""Where a lab keeps its state and where the guest image cache lives.

Both can be moved by environment variables so that tests run a private lab in a temporary
directory while an operator's lab (and the slow-to-build image cache) stays where it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path("/var/lib/ovtui-lab")
DEFAULT_CACHE = Path("/var/cache/ovtui-lab")
ROOT_ENV = "OVTUI_LAB_ROOT"
CACHE_ENV = "OVTUI_LAB_CACHE"
# AF_UNIX paths are limited to 108 bytes including the NUL; libvirt adds "libvirt-admin-sock".
_MAX_SOCKET_PATH = 107


def default_root() -> Path:
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def default_cache() -> Path:
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


@dataclass(frozen=True)
class LabPaths:
    """Every path of one lab, derived from its root directory."""

    root: Path

    @property
    def state_file(self) -> Path:
        return self.root / "lab.json"

    @property
    def lock_file(self) -> Path:
        return self.root / "lab.lock"

    @property
    def config_file(self) -> Path:
        return self.root / "ovtui.toml"

    @property
    def hosts_file(self) -> Path:
        """An /etc/hosts shared by every lab host: all lab host names resolve to loopback."""
        return self.root / "etc-hosts"

    @property
    def guests_dir(self) -> Path:
        """Guest files that must outlive a migration (serial logs) live outside any host."""
        return self.root / "guests"

    def host_dir(self, host: str) -> Path:
        return self.root / "hosts" / host

    def socket_dir(self, host: str) -> Path:
        return self.host_dir(host) / "sock"

    def socket(self, host: str) -> Path:
        return self.socket_dir(host) / "libvirt-sock"

    def serial_log(self, guest: str) -> Path:
        return self.guests_dir / f"{guest}.serial.log"

    def check(self) -> None:
        longest = self.socket_dir("h99") / "libvirt-admin-sock"
        if len(str(longest)) > _MAX_SOCKET_PATH:
            raise ValueError(
                f"lab root {self.root} is too long for libvirt's unix sockets "
                f"({len(str(longest))} > {_MAX_SOCKET_PATH} bytes); choose a shorter "
                f"{ROOT_ENV}"
            )
