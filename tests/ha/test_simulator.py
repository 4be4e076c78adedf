"""The HA machine in whole failure scenarios, without a cluster: each case under cases/ is a
command list in and the expected log out (pve-ha-manager's src/test/ layout). After a change
that alters a log on purpose, OVTUI_HA_REGEN=1 rewrites log.expect: read the diff."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from ovtui.ha.simulator import simulate

CASES = sorted(p for p in (Path(__file__).parent / "cases").iterdir() if p.is_dir())


def _log(case: str) -> str:
    return simulate((Path(__file__).parent / "cases" / case / "cmdlist").read_text())


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_case(case: Path) -> None:
    log = simulate((case / "cmdlist").read_text())
    expect = case / "log.expect"
    if os.environ.get("OVTUI_HA_REGEN"):
        expect.write_text(log)
    assert log == expect.read_text()
    assert "SPLIT BRAIN" not in log


def _lines(log: str, text: str) -> list[str]:
    return [line for line in log.splitlines() if text in line]


def test_no_restart_before_the_power_off_is_confirmed() -> None:
    for case in CASES:
        lines = _log(case.name).splitlines()
        for i, line in enumerate(lines):
            if "cmd: restart" in line and "crash" not in case.name:
                assert any("fenced" in earlier for earlier in lines[:i]), (case.name, line)


def test_split_brain_is_fenced_before_any_restart() -> None:
    log = _log("split_brain")
    first_restart = log.index("cmd: restart")
    assert log.index("power off confirmed: fenced") < first_restart


def test_half_the_cluster_unreachable_means_no_fencing_at_all() -> None:
    log = _log("half_unreachable")
    before = log[: log.index("sim: reconnect h2")]
    assert "cmd: power_off" not in before and "cmd: restart" not in before


def test_the_bmc_unreachable_blocks_restarts_and_the_quiet_time_spaces_attempts() -> None:
    log = _log("bmc_unreachable")
    offs = [int(line.split()[0]) for line in _lines(log, "cmd: power_off")]
    assert offs[1] - offs[0] >= 180
    failed_at = log.index("fence failed")
    assert "cmd: restart" not in log[:failed_at] and log.index("cmd: restart") > log.index(
        "power off confirmed"
    )


def test_no_power_management_waits_for_the_operator() -> None:
    log = _log("no_power_management")
    assert "cmd: power_off" not in log
    assert log.index("alice confirmed") < log.index("cmd: restart vm1")
    assert "cmd: restart vm2" not in log  # not HA: stays down
    assert "cmd: restart" not in _log("fencing_disabled")


def test_retries_every_30_s_ten_times_then_every_30_min() -> None:
    starts = [int(line.split()[0]) for line in _lines(_log("retries"), "cmd: restart")]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert gaps[:10] == [31] * 10 and gaps[10] == 1801  # result one tick after each start


def test_a_lower_priority_vm_waits_at_most_the_priority_wait() -> None:
    log = _log("priority_wait")
    vm1 = int(_lines(log, "cmd: restart vm1")[0].split()[0])
    fenced = int(_lines(log, "to restart")[0].split()[0])
    assert vm1 - fenced == 600
    assert int(_lines(log, "cmd: restart vm2")[0].split()[0]) < vm1


def test_an_engine_restart_never_acts_twice() -> None:
    fence = _log("engine_restart_mid_fence")
    assert len(_lines(fence, "cmd: power_off")) == 1 and "resuming: is it off?" in fence
    restart = _log("engine_restart_mid_restart")
    assert len(_lines(restart, "cmd: restart vm1")) == 1
    assert len(_lines(restart, "cmd: restart vm2")) == 1


def test_a_confirmed_power_off_counts_as_fenced_when_power_on_fails() -> None:
    log = _log("power_on_fails")
    assert "power on failed" in log and "vm vm1: restarted on" in log
