"""`lab up --bmc`: a real ipmi_sim BMC per lab host whose chassis control is the host's power."""

from __future__ import annotations

import time
from collections.abc import Iterator

import libvirt
import pytest

from ovtui.config import load_config
from ovtui.executor.power import power_action, power_status, run_power_command
from ovtui.lab import Lab, procs
from tests.lab.conftest import lab_up

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bmc_lab() -> Iterator[Lab]:
    yield from lab_up(hosts=2, guests=2, bmc=True)


def _until(check, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.2)


async def test_the_bmc_powers_the_lab_host_off_and_on(bmc_lab: Lab) -> None:
    cfg = next(h for h in load_config(bmc_lab.config_path).hosts if h.name == "h1")
    assert cfg.power.kind == "ipmi" and cfg.power.port == bmc_lab.state().hosts["h1"].bmc_port
    daemon, qemus = bmc_lab.daemon_pid("h1"), bmc_lab.qemu_pids("h1")
    assert daemon is not None and qemus
    assert await power_status(cfg) == "on"
    await run_power_command(cfg, "off")  # the power-saving plan's power step
    assert await power_status(cfg) == "off"
    for pid in [daemon, *qemus]:  # the host's libvirtd and QEMUs are gone, by PID
        assert procs.ref_of(pid) is None or not procs.alive(procs.ref_of(pid))  # type: ignore[arg-type]
    assert bmc_lab.daemon_pid("h1") is None
    await power_action(cfg, "on")
    assert await power_status(cfg) == "on"
    _until(lambda: bmc_lab.daemon_pid("h1") is not None)
    c = bmc_lab.connect("h1")
    try:  # the daemon is back, its guests defined but not started
        _until(lambda: bool(c.listAllDomains()))
        assert not c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
    finally:
        c.close()
    bmc_lab.heal("h1", start_guests=True)  # leave the lab as found


def test_lab_down_stops_every_bmc_by_pid() -> None:
    gen = lab_up(hosts=1, guests=0, bmc=True)
    lab = next(gen)
    ref = lab.state().hosts["h1"].bmc
    assert ref is not None and procs.alive(ref)
    with pytest.raises(StopIteration):
        next(gen)
    assert not procs.alive(ref)
