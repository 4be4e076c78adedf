"""For HA lab tests: an engine on the lab with short guards, and a sampler of every lab host's
QEMU processes that remembers whether any guest ever ran on two hosts at once."""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from auth.local_users import LocalUser, write_local_users
from ovtui.config import Config, load_config
from ovtui.config.power_schema import PowerConfig
from ovtui.lab import Lab
from ovtui.lab import host as hostmod
from tests.conftest import API, ROLE_USERS, _password_hash

T = TypeVar("T")
# Guards shortened so that a test sees the whole flow in seconds (their defaults are tested
# in the simulator, tests/ha/).
SHORT_GUARDS = {
    "disable_fence_at_startup_seconds": 0.0,
    "non_responsive_grace_seconds": 2.0,
    "fence_quiet_time_seconds": 20.0,
    "power_off_confirm_seconds": 30.0,
    "restart_retry_seconds": 3.0,
    "priority_wait_seconds": 60.0,
}


def soft_fence_command(lab: Lab, host: str) -> list[str]:
    """The lab's soft fence: restart the host's libvirtd by PID (`lab restart-daemon`)."""
    return [sys.executable, "-m", "ovtui.lab", "--root", str(lab.root), "restart-daemon", host]


def ha_config(
    lab: Lab, no_power: tuple[str, ...] = (), soft_fence: tuple[str, ...] = (), **guards: float
) -> Config:
    config = load_config(lab.config_path)
    users = [LocalUser(u, _password_hash(), frozenset({r})) for r, u in ROLE_USERS.items()]
    write_local_users(config.auth.local_users_file, users)
    store = Path(tempfile.mkdtemp(prefix="ha-store-", dir=str(lab.root)))
    clusters = [
        c.model_copy(update={"ha": c.ha.model_copy(update={**SHORT_GUARDS, **guards})})
        for c in config.clusters
    ]
    hosts = [
        h.model_copy(update={"power": PowerConfig()}) if h.name in no_power else h
        for h in config.hosts
    ]
    hosts = [
        h.model_copy(
            update={"power": h.power.model_copy(
                update={"soft_fence": soft_fence_command(lab, h.name)})}
        )
        if h.name in soft_fence
        else h
        for h in hosts
    ]  # fmt: skip
    return config.model_copy(
        update={
            "exporter": config.exporter.model_copy(update={"listen": "127.0.0.1:0"}),
            "engine": config.engine.model_copy(update={"store_dir": store}),
            "clusters": clusters,
            "hosts": hosts,
        }
    )


def until(check: Callable[[], T], timeout: float, what: str, every: float = 0.2) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not seen within {timeout:.0f} s (last: {found!r})")
        time.sleep(every)


def _has_vcpus(pid: int) -> bool:
    """QEMU makes its vCPU threads ("CPU 0/TCG") only after it has opened every disk: a QEMU
    that QEMU's image lock refused exits before it has any, so it never ran the guest."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return False
    for task in tasks:
        try:
            if (task / "comm").read_text().startswith("CPU "):
                return True
        except OSError:
            continue
    return False


def qemus_by_guest(lab: Lab, vcpus_only: bool = False) -> dict[str, list[str]]:
    """guest -> lab hosts where a QEMU process of it is alive now (frozen ones count); with
    vcpus_only, only QEMUs that got as far as creating the guest's vCPUs."""
    found: dict[str, list[str]] = {}
    for name, h in lab.state().hosts.items():
        for ref in hostmod.qemus(h):
            try:
                argv = Path(f"/proc/{ref.pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if vcpus_only and not _has_vcpus(ref.pid):
                continue
            for a in argv:
                if a.startswith(b"guest="):
                    found.setdefault(a[6:].split(b",")[0].decode(), []).append(name)
    return found


class Sampler:
    """Samples every lab host's QEMU processes in a thread until stop(). vcpus_only: see
    qemus_by_guest (for a test where QEMU's image lock refuses a second copy at its start)."""

    def __init__(self, lab: Lab, every: float = 0.1, vcpus_only: bool = False) -> None:
        self.lab, self.every, self.vcpus_only = lab, every, vcpus_only
        self.twice: list[tuple[float, str, list[str]]] = []
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            for guest, hosts in qemus_by_guest(self.lab, self.vcpus_only).items():
                if len(hosts) > 1:
                    self.twice.append((time.monotonic(), guest, hosts))
            self.samples += 1
            self._stop.wait(self.every)


def vm_where(c: httpx.Client, name: str) -> dict[str, Any]:
    """The API's view of a VM: its running copy if there is one."""
    vms = [v for v in c.get(f"{API}/vms").json() if v["name"] == name]
    running = [v for v in vms if v["state"] == "running"]
    return running[0] if running else vms[0]


def ha_status(c: httpx.Client) -> dict[str, Any]:
    resp = c.get(f"{API}/ha")
    assert resp.status_code == 200, resp.text
    status: dict[str, Any] = resp.json()
    return status
