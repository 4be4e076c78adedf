"""kind = "ipmi" against a real ipmi_sim BMC on loopback, through fence_ipmilan and ipmitool."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from ovtui.config.power_schema import PowerConfig
from ovtui.config.schema import HostConfig
from ovtui.executor.power import power_action, power_status, run_power_command
from ovtui.executor.power.ipmi import fence_ipmilan_input, ipmitool_argv
from ovtui.fleet.errors import FleetError
from tests.power.conftest import PASSWORD, SimBmc


def _host(
    bmc: SimBmc, tmp_path: Path, agent: str, password: str = PASSWORD, **kw: Any
) -> HostConfig:
    pw = tmp_path / f"pw-{agent}"
    pw.write_text(password + "\n")
    power = PowerConfig(kind="ipmi", agent=agent, address="127.0.0.1", port=bmc.port,  # type: ignore[arg-type]
                        user="admin", password={"file": str(pw)}, **kw)  # type: ignore[arg-type]  # fmt: skip
    return HostConfig(name="h1", cluster="c", uri="qemu:///system", power=power)


@pytest.mark.parametrize("agent", ["fence_ipmilan", "ipmitool"])
async def test_status_off_on_reboot_through_the_bmc(
    sim_bmc: SimBmc, tmp_path: Path, agent: str
) -> None:
    cfg = _host(sim_bmc, tmp_path, agent)
    assert await power_status(cfg) == "on"
    out = await power_action(cfg, "off")
    assert sim_bmc.power == "off" and out["action"] == "power_off"
    assert await power_status(cfg) == "off"
    await run_power_command(cfg, "on")  # the executor's power step (power saving) goes here too
    assert sim_bmc.power == "on"
    await power_action(cfg, "reboot")
    assert "0x20 set power 0" in sim_bmc.calls() or any("reset" in c for c in sim_bmc.calls())
    assert await power_status(cfg) == "on"


@pytest.mark.parametrize("agent", ["fence_ipmilan", "ipmitool"])
async def test_a_wrong_password_is_a_failed_power_action(
    sim_bmc: SimBmc, tmp_path: Path, agent: str
) -> None:
    cfg = _host(sim_bmc, tmp_path, agent, password="wrong")
    with pytest.raises(FleetError, match=f"through its BMC 127.0.0.1:{sim_bmc.port} failed"):
        await power_action(cfg, "off")
    assert sim_bmc.power == "on" and not any("set" in c for c in sim_bmc.calls())


@pytest.mark.parametrize("agent", ["fence_ipmilan", "ipmitool"])
async def test_an_unreachable_bmc_fails_within_the_timeout(
    sim_bmc: SimBmc, tmp_path: Path, agent: str
) -> None:
    os.kill(sim_bmc.pid, signal.SIGSTOP)  # it keeps its port and answers nothing
    cfg = _host(sim_bmc, tmp_path, agent, timeout_seconds=4.0)
    with pytest.raises(FleetError) as info:
        await power_status(cfg)
    assert info.value.host == "h1"


def test_the_password_never_reaches_a_command_line(tmp_path: Path) -> None:
    power = PowerConfig(kind="ipmi", address="10.0.0.9", user="admin", password={"env": "X"})  # type: ignore[arg-type]
    argv = ipmitool_argv(power, "off")
    assert "-E" in argv and "-P" not in argv and argv[-3:] == ["chassis", "power", "off"]
    assert argv[argv.index("-C") : argv.index("-C") + 2] == ["-C", "3"]  # no 10 s cipher probe
    lines = fence_ipmilan_input(power, "status", "pw", 30).splitlines()
    assert "password=pw" in lines and "lanplus=1" in lines and "cipher=3" in lines


async def test_a_host_without_power_management_is_left_alone() -> None:
    cfg = HostConfig(name="h1", cluster="c", uri="qemu:///system")
    with pytest.raises(FleetError, match="no power management") as info:
        await power_action(cfg, "off")
    assert info.value.kind == "invalid"
