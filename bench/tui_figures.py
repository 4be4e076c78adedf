"""Terminal dashboard figures at 100, 1 000 and 20 000 VMs (libvirt test driver, synthetic load).

`ovtui dashboard` runs in a 200x50 tmux window (bench/tui_tmux.py) as an operator would start
it, against an engine on a generated fleet (hosts x VMs per host: 5x20, 25x40, 500x40); next to
it, the floor: an empty Textual app (one Static) in the same window. Per size, per launch:

- first frame:  process start until the screen shows the top bar's "N VMs" (sign-in check,
                first poll of hosts, VMs and clusters, overview drawn). Includes the
                interpreter's start and every import.
- to VM list:   process start until `2` (pressed right after the first frame) shows VM rows;
                and the CPU time the process had used by then (what the machine's load
                does not stretch, unlike the wall-clock figure).
- idle CPU:     % of one core the app's process used over IDLE s with no key pressed, on each
                tab (overview, hosts, VMs, events); the dashboard still polls every 2 s.
- RSS:          resident memory at the start and end of a MEMORY s idle on the VMs tab, and
                its slope in MiB per minute.
- keys:         ms from send-keys until capture-pane (polled every 20 ms) shows the key's
                result: G/End (last row shown), g/Home (first row), ctrl+End/ctrl+Home, the
                `/` filter typed at 8 keys a second (from the last key until only the match
                is listed) and as one burst, Esc (filter gone, the list back), tab keys 0-3.
                Each key figure is the median over the launches (and over its repeats).
- floor:        the empty app's start, idle CPU, RSS, and a key that updates its one line
                (what this machine's load alone costs a key, measured the same way).
- refresh:      bench/tui_refresh.py, in-process: one VM-table refresh, changed and unchanged.

The machine is shared and noisy: medians of REPEAT launches. Reference from the issue:
virtui-manager idles at 4.8-5.1% of a core and starts in 3.3-5.7 s at 1 000 VMs.

    python -m bench.tui_figures [--sizes 100,1000,20000] [--repeat 3] [--idle 10] [--memory 60]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import print_table, save
from bench.tui_refresh import measure
from bench.tui_tmux import Tmux, cpu_seconds
from ovtui.client import Client
from ovtui.demo import start_engine, stop_engine
from ovtui.testdriver_fleet import synthetic_spec, write_fleet
from ovtui.tui.fmt import sort_key_of

SHAPES = {100: (5, 20), 1000: (25, 40), 20000: (500, 40)}  # VMs -> (hosts, VMs per host)
SIZE = (200, 50)
PASSWORD = "bench"
FLOOR_MARKER = "floor: first frame"
BIG_TABLE = 60  # rows: more than a 50-line window shows
NO_RESULT = 5.0  # s: a key whose result has not shown by then does nothing (reported null)
TYPING_GAP = 0.125  # 8 keys a second
_LAUNCHES = itertools.count()
_NAME = re.compile(r"\b[a-z]+-\d{6}\b")
TABS = {"overview": ("0", "CPU trend"), "hosts": ("1", "Migr"), "vms": ("2", "vCPU"),
        "events": ("3", "Detail")}  # fmt: skip


def _fleet(hosts: int, per_host: int) -> Path:
    from auth.local_users import LocalUser, write_local_users
    from auth.passwords import hash_password

    root = Path(tempfile.mkdtemp(prefix="ovb-"))
    config = write_fleet(synthetic_spec(hosts, per_host, seed=1), root)
    users = root / "users.toml"
    write_local_users(
        users, [LocalUser("admin", hash_password(PASSWORD, n=2**12), frozenset({"ReadOnly"}))]
    )
    with config.open("a") as fh:
        fh.write(f'\n[auth]\nlocal_users_file = "{users}"\n')
    return config


@dataclass(frozen=True)
class Fleet:
    token: str
    vms: list[str]  # names in the VM table's order
    ends: dict[str, tuple[str, str]]  # tab -> (first row's text, last row's text), big tables


def _engine_ready(socket: Path, proc: Any, log: Path, hosts: int) -> Fleet:
    client = Client(socket, timeout=120)
    while True:
        try:
            if client.get("/api/v1/health")["hosts_read"] == hosts:
                break
        except Exception:
            if proc.poll() is not None:
                raise SystemExit(log.read_text()) from None
        time.sleep(0.2)
    client.login("admin", PASSWORD)
    while sum(h["vms_running"] > 0 for h in client.get("/api/v1/hosts")) < hosts:
        time.sleep(0.2)
    vms = sorted((str(v["name"]) for v in client.get("/api/v1/vms")), key=sort_key_of)
    host_rows = client.get("/api/v1/hosts")
    token = client.token or ""
    client.close()
    ends = {"vms": (vms[0], vms[-1])}
    if len(host_rows) > BIG_TABLE:
        names = sorted((str(h["name"]) for h in host_rows), key=sort_key_of)
        ends["hosts"] = (names[0], names[-1])
        tree = sorted((str(h["datacenter"]), str(h["cluster"]), str(h["name"])) for h in host_rows)
        ends["overview"] = (tree[0][0], tree[-1][2])
    return Fleet(token, vms, ends)


def _run_floor() -> None:
    """The floor app itself (run in tmux by `python -m bench.tui_figures --floor-app`)."""
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    class Floor(App[None]):
        BINDINGS = [("x", "press")]

        def compose(self) -> ComposeResult:
            yield Static(FLOOR_MARKER)

        def action_press(self) -> None:  # the floor of a key's latency: one Static updated
            self.query_one(Static).update(f"{FLOOR_MARKER}: pressed")

    Floor().run()


def _server() -> str:
    """A tmux server of its own for each launch: one being stopped cannot take the next one."""
    return f"ovb-{os.getpid()}-{next(_LAUNCHES)}"


def _names(screen: str) -> set[str]:
    return set(_NAME.findall(screen))


def _ms(seconds: float) -> float:
    return round(seconds * 1000)


def _table_ends(t: Tmux, first: str, last: str, tab: str) -> dict[str, float | None]:
    """G/End/ctrl+End to the last row, g/Home/ctrl+Home to the first, on one tab's table (one
    with more rows than the window: then the row's text shows only once the cursor is there)."""
    out: dict[str, float | None] = {}
    for down, up in (("G", "g"), ("End", "Home"), ("C-End", "C-Home")):
        try:
            out[f"{tab}_{down}_ms"] = _ms(t.press(down, lambda s: last in s, timeout=NO_RESULT))
        except TimeoutError:  # the key does nothing: then the way back cannot be timed either
            out[f"{tab}_{down}_ms"] = out[f"{tab}_{up}_ms"] = None
            continue
        out[f"{tab}_{up}_ms"] = _ms(t.press(up, lambda s: first in s, timeout=NO_RESULT))
    return out


def _filter_keys(t: Tmux, names: list[str]) -> dict[str, float]:
    target = names[len(names) * 3 // 4]
    only = lambda s: _names(s) == {target}  # noqa: E731
    back = lambda s: len(_names(s)) >= min(5, len(names))  # noqa: E731
    t.wait(lambda s: "vCPU" in s and len(_names(s)) > 1, 20, time.perf_counter())
    t.press("/", lambda s: "filter VMs" in s)
    for ch in target:
        t.text(ch)
        time.sleep(TYPING_GAP)
    typed = _ms(t.wait(only, 30, time.perf_counter() - TYPING_GAP))
    esc = _ms(t.press("Escape", lambda s: "filter VMs" not in s and back(s)))
    t.press("/", lambda s: "filter VMs" in s)
    began = time.perf_counter()
    t.text(target)
    burst = _ms(t.wait(only, 30, began))
    esc2 = _ms(t.press("Escape", lambda s: "filter VMs" not in s and back(s)))
    return {
        "filter_typed_ms": typed,
        "filter_burst_ms": burst,
        "esc_ms": round(statistics.median([esc, esc2])),
    }


def _dashboard_launch(socket: Path, fleet: Fleet, idle: float, memory: float,
                      engine_pid: int) -> dict[str, Any]:  # fmt: skip
    ovtui = str(Path(sys.executable).with_name("ovtui"))
    env = {"OVTUI_TOKEN": fleet.token}
    t = Tmux([ovtui, "--socket", str(socket), "dashboard"], env, SIZE, _server())
    names = fleet.vms
    out: dict[str, Any] = {}
    try:
        marker = f"{len(names)} VMs"
        out["first_frame_s"] = round(t.wait(lambda s: marker in s, 120, t.began), 2)
        t.keys("2")
        out["to_vm_list_s"] = round(t.wait(lambda s: names[0] in s, 60, t.began), 2)
        out["to_vm_list_cpu_s"] = round(cpu_seconds(t.pid), 2)
        for tab, (key, mark) in TABS.items():
            out[f"key_{key}_ms"] = _ms(t.press(key, lambda s, m=mark: m in s))  # type: ignore[misc]
            time.sleep(2.5)  # a poll lands after the switch; then idle
            engine0 = cpu_seconds(engine_pid)
            cpu, _ = t.idle(idle)
            out[f"idle_{tab}_pct"] = round(cpu, 2)
            engine = (cpu_seconds(engine_pid) - engine0) / idle * 100
            out.setdefault("engine_cpu_pct", round(engine, 1))
        for tab, (first, last) in fleet.ends.items():
            key, mark = TABS[tab]
            t.press(key, lambda s, m=mark: m in s)  # type: ignore[misc]
            time.sleep(0.5)
            out.update(_table_ends(t, first, last, tab))
        t.press("2", lambda s: "vCPU" in s)
        out.update(_filter_keys(t, names))
        time.sleep(2.5)
        _, rss = t.idle(memory)
        out["rss_start_mib"], out["rss_end_mib"] = round(rss[0], 1), round(rss[-1], 1)
        out["rss_mib_per_min"] = round((rss[-1] - rss[0]) / memory * 60, 2)
    finally:
        t.stop()
    out["loadavg"] = float(Path("/proc/loadavg").read_text().split()[0])
    return out


def _floor_launch(idle: float) -> dict[str, Any]:
    t = Tmux([sys.executable, "-m", "bench.tui_figures", "--floor-app"], {}, SIZE, _server())
    try:
        first = t.wait(lambda s: FLOOR_MARKER in s, 60, t.began)
        first_cpu = cpu_seconds(t.pid)
        time.sleep(1.0)
        cpu, rss = t.idle(idle)
        key = t.press("x", lambda s: "pressed" in s)
        return {"first_frame_s": round(first, 2), "first_frame_cpu_s": round(first_cpu, 2),
                "idle_pct": round(cpu, 1),
                "rss_mib": round(rss[-1], 1), "key_ms": _ms(key)}  # fmt: skip
    finally:
        t.stop()


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k in runs[0] if all(k in r for r in runs) and k != "loadavg"]
    out: dict[str, Any] = {}
    for k in keys:
        values = [r[k] for r in runs if r[k] is not None]
        if not values:
            out[k] = None
            continue
        med = statistics.median(values)
        out[k] = round(med, 2) if isinstance(med, float) else med
    return out


def run_size(vms: int, repeat: int, idle: float, memory: float) -> dict[str, Any]:
    hosts, per_host = SHAPES[vms]
    config = _fleet(hosts, per_host)
    root = config.parent
    log = root / "engine.log"
    engine = start_engine(config, log)
    try:
        socket = root / "api.sock"
        fleet = _engine_ready(socket, engine, log, hosts)
        runs = []
        for i in range(repeat):
            runs.append(_dashboard_launch(socket, fleet, idle, memory, engine.pid))
            print(f"  {vms} VMs, launch {i + 1}: {runs[-1]}", flush=True)
        refresh = asyncio.run(measure(socket, fleet.token, repeat=5))
    finally:
        stop_engine(engine)
    row = {"app": "ovtui dashboard", "vms": len(fleet.vms), **_median(runs)}
    row["loadavg_1min"] = f"{min(r['loadavg'] for r in runs)}-{max(r['loadavg'] for r in runs)}"
    row["rss_max_mib_per_min"] = max(r["rss_mib_per_min"] for r in runs)
    row["refresh"] = refresh
    return row


def run(sizes: tuple[int, ...], repeat: int, idle: float, memory: float) -> list[dict[str, Any]]:
    load = Path("/proc/loadavg").read_text().split()[0]
    rows = [{"app": "empty Textual app (floor)", "vms": 0, "loadavg_1min": load,
             **_median([_floor_launch(idle) for _ in range(repeat)])}]  # fmt: skip
    print(f"  floor: {rows[0]}", flush=True)
    for vms in sizes:
        rows.append(run_size(vms, repeat, idle, memory))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,20000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle per tab")
    parser.add_argument("--memory", type=float, default=60.0, help="seconds of RSS watching")
    parser.add_argument("--save", default="tui", help="results name (bench/results/NAME.json)")
    parser.add_argument("--floor-app", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_app:
        _run_floor()
        return
    sizes = tuple(int(s) for s in args.sizes.split(",") if s)  # "": the floor only
    rows = run(sizes, args.repeat, args.idle, args.memory)
    for row in rows:
        print(f"\n{row['app']} at {row['vms']} VMs")
        print_table([{k: v for k, v in row.items() if k not in ("app", "refresh")}])
    path = save(args.save, rows, __doc__ or "")
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
