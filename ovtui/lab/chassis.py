"""ipmi_sim's chassis control for one lab host: `chassis.py ROOT HOST 0x20 get power` and
`... set power 0|1` / `set reset 1`.

Like a real BMC, a power command returns at once and the change happens behind it: the lab's
`fail` (every process of the host killed by PID) or `heal` (libvirtd started again, guests
shut off) runs detached, and `get power` reports whether the host's init is alive now, so
fence_ipmilan's wait for the new state sees it when it is true. Output protocol (OpenIPMI's
ipmi_sim_chassiscontrol): "power:1" per parameter fetched; nothing on a successful set.

Run by path with the standard library only: importing ovtui.lab would load libvirt, and a BMC
that takes half a second per status makes ipmitool time out on a busy machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _alive(ref: dict[str, int] | None) -> bool:
    """procs.alive without importing it: same PID, same start time, not a zombie."""
    if not ref:
        return False
    try:
        raw = Path(f"/proc/{ref['pid']}/stat").read_text(errors="replace")
    except OSError:
        return False
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[19]) == ref["start"] and fields[0] not in ("Z", "X")


def powered(root: Path, host: str) -> bool:
    """On while the host's init lives, frozen or not (host.live_status's "running"/"hung")."""
    try:
        state = json.loads((root / "lab.json").read_text())
    except (OSError, ValueError):
        return False
    h = state.get("hosts", {}).get(host)
    return bool(h) and _alive(h.get("init"))


def _detached(root: Path, *args: str) -> None:
    with open(root / "bmc" / "chassis.log", "ab") as out:
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
