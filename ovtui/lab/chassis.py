"""ipmi_sim's chassis control for one lab host: `chassis ROOT HOST 0x20 get power` and
`... set power 0|1` / `set reset 1`.

Like a real BMC, a power command returns at once and the change happens behind it: the lab's
`fail` (every process of the host killed by PID) or `heal` (libvirtd started again, guests
shut off) runs detached, and `get power` reports what the host's processes are now, so
fence_ipmilan's wait for the new state sees it when it is true. Output protocol (OpenIPMI's
ipmi_sim_chassiscontrol): "power:1" per parameter fetched; nothing on a successful set.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ovtui.lab import host as hostmod
from ovtui.lab.paths import LabPaths
from ovtui.lab.state import load

_ON = ("running", "hung")  # a frozen host still has power


def powered(root: Path, host: str) -> bool:
    st = load(LabPaths(root).state_file)
    h = st.hosts.get(host)
    return h is not None and hostmod.live_status(h) in _ON


def _detached(root: Path, *args: str) -> None:
    log = LabPaths(root).root / "bmc" / "chassis.log"
    with open(log, "ab") as out:
        subprocess.Popen(
            [sys.executable, "-m", "ovtui.lab", "--root", str(root), *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )


def main(argv: list[str]) -> int:
    root, host, _mc, op, *rest = argv
    path = Path(root)
    if op == "get":
        for parm in rest:
            if parm == "power":
                print(f"power:{1 if powered(path, host) else 0}")
            elif parm == "boot":
                print("boot:default")
            else:
                print(f"invalid parameter {parm}", file=sys.stderr)
                return 1
        return 0
    if op != "set":
        return 1
    pairs = dict(zip(rest[::2], rest[1::2], strict=False))
    if pairs.get("power") == "0":
        _detached(path, "fail", host)
    elif pairs.get("power") == "1":
        _detached(path, "heal", host)
    elif pairs.get("reset") == "1":
        _detached(path, "fail", host, "--then-heal")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
