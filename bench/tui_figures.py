"""Terminal dashboard figures on a fleet of 1000 VMs (25 hosts x 40, libvirt test driver).

Side by side in one run, for `ovtui dashboard` and for an empty Textual app (the floor: one
Static, nothing else):

- first frame: process start (`ovtui dashboard` as an operator would type it, in a real pty of
               160x48) until the first frame that shows the fleet (the top bar's "1000 VMs",
               written after sign-in check, the first poll of hosts, VMs and clusters, and
               every table filled); for the floor, until its one line of text appears.
               Includes the interpreter's start and every import.
- RSS:         resident memory of the app's process right after that frame.
- idle CPU:    CPU time of the app's process over IDLE seconds with no key pressed (the
               dashboard still polls every 2 s and refreshes its tables: that is its idle),
               as % of one core; the engine's own CPU over the same window is shown apart.
- refresh:     see bench/tui_refresh.py: one VM-table refresh of the 1000 rows with the keyed
               diff, against the naive clear-and-add-all floor.

Each launch figure is the median of REPEAT launches. Load on the fleet is synthetic. Reference
from the issue: virtui-manager starts in ~1 s and uses ~100 MB RSS at 300 VMs.

    python -m bench.tui_figures [--repeat 5] [--idle 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import print_table, rss_mib, save
from bench.tui_pty import cpu_seconds, launch
from bench.tui_refresh import measure
from ovtui.client import Client
from ovtui.demo import start_engine, stop_engine
from ovtui.testdriver_fleet import synthetic_spec, write_fleet

HOSTS, VMS_PER_HOST = 25, 40
SIZE = (160, 48)
PASSWORD = "bench"
FLOOR_MARKER = "floor: first frame"


def _fleet() -> Path:
    from auth.local_users import LocalUser, write_local_users
    from auth.passwords import hash_password

    root = Path(tempfile.mkdtemp(prefix="ovb-"))
    config = write_fleet(synthetic_spec(HOSTS, VMS_PER_HOST, seed=1), root)
    users = root / "users.toml"
    write_local_users(
        users, [LocalUser("admin", hash_password(PASSWORD, n=2**12), frozenset({"ReadOnly"}))]
    )
    with config.open("a") as fh:
        fh.write(f'\n[auth]\nlocal_users_file = "{users}"\n')
    return config


def _engine_ready(socket: Path, proc: Any, log: Path) -> str:
    client = Client(socket, timeout=60)
    while True:
        try:
            if client.get("/api/v1/health")["hosts_up"] == HOSTS:
                break
        except Exception:
            if proc.poll() is not None:
                raise SystemExit(log.read_text()) from None
        time.sleep(0.1)
    client.login("admin", PASSWORD)
    while sum(h["vms_running"] > 0 for h in client.get("/api/v1/hosts")) < HOSTS:
        time.sleep(0.1)
    token = client.token or ""
    client.close()
    return token


def _run_floor() -> None:
    """The floor app itself (run in the pty by `python -m bench.tui_figures --floor-app`)."""
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Floor(App[None]):
        def compose(self) -> ComposeResult:
            yield Static(FLOOR_MARKER)

    Floor().run()


def _launches(argv: list[str], marker: str, env: dict[str, str], engine_pid: int, repeat: int,
              idle: float) -> dict[str, Any]:  # fmt: skip
    first, rss, cpu, engine_cpu = [], [], [], []
    for _ in range(repeat):
        run = launch(argv, marker.encode(), env, SIZE, timeout=120)
        try:
            first.append(run.first_frame_s)
            rss.append(rss_mib(run.proc.pid))
            run.drain(1.0)  # let the first frame's follow-up work settle before idling
            mine, engine = cpu_seconds(run.proc.pid), cpu_seconds(engine_pid)
            run.drain(idle)
            cpu.append((cpu_seconds(run.proc.pid) - mine) / idle * 100)
            engine_cpu.append((cpu_seconds(engine_pid) - engine) / idle * 100)
        finally:
            run.stop()
    return {
        "first_frame_s": round(statistics.median(first), 2),
        "first_frame_max_s": round(max(first), 2),
        "rss_mib": round(statistics.median(rss), 1),
        "idle_cpu_pct": round(statistics.median(cpu), 1),
        "engine_cpu_pct": round(statistics.median(engine_cpu), 1),
    }


def run(repeat: int, idle: float) -> list[dict[str, Any]]:
    config = _fleet()
    root = config.parent
    log = root / "engine.log"
    engine = start_engine(config, log)
    try:
        socket = root / "api.sock"
        token = _engine_ready(socket, engine, log)
        vms = HOSTS * VMS_PER_HOST
        ovtui = str(Path(sys.executable).with_name("ovtui"))
        dash = _launches(
            [ovtui, "--socket", str(socket), "dashboard"],
            f"{vms} VMs",
            {"OVTUI_TOKEN": token},
            engine.pid,
            repeat,
            idle,
        )
        floor = _launches(
            [sys.executable, "-m", "bench.tui_figures", "--floor-app"],
            FLOOR_MARKER,
            {},
            engine.pid,
            repeat,
            idle,
        )
        refresh = asyncio.run(measure(socket, token, repeat=max(repeat, 7)))
    finally:
        stop_engine(engine)
    return [
        {"app": "ovtui dashboard", "vms": vms, **dash},
        {"app": "empty Textual app (floor)", "vms": 0, **floor},
        {"app": "VM table refresh (in-process)", **refresh},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle per launch")
    parser.add_argument("--floor-app", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_app:
        _run_floor()
        return
    rows = run(args.repeat, args.idle)
    print_table(rows[:2])
    print()
    print_table(rows[2:])
    print("\nreference (issue): virtui-manager ~1 s to start, ~100 MB RSS at 300 VMs")
    path = save("tui", rows, __doc__ or "")
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
