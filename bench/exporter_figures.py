"""Issue 4 figures: exporter scrape time and memory for 10/100/500 hosts x 40 VMs (test driver).

For each size, side by side in one run:
- floor:     the raw libvirt calls a scrape needs (getAllDomainStats with NOWAIT on every host),
             one thread, no Python objects built: what any exporter pays at least
- cold:      GET /metrics (gzip, as Prometheus asks) on a real engine process when no host
             statistics are cached (every host read in parallel, then every family built and
             formatted); median of 3, each after the 5 s reuse window expired
- warm:      GET /metrics again right after each cold one (building and formatting; no libvirt
             call while the cold scrape's statistics are within the reuse window); median of
             3 x `repeat`. `scrape_warm_fresh_ms`: only those that ended within the window of
             their cold scrape's start (none when the cold scrape itself takes longer), with
             `warm_fresh_n` of them; `warm_collect_wait_ms`: the warm scrapes' own wait for
             statistics (ovtui_exporter_collect_duration_seconds: near 0 when nothing was read)
- two:       two scrapers at once on expired statistics (two Prometheus servers): wall time of
             both; each host is still read once
- memory:    engine RSS before the first scrape (inventory only), after the scrapes, and its peak
- CPU:       the engine process's CPU seconds (user + system, /proc) over each cold and warm
             scrape, medians; `idle_cpu_%` is its CPU over 5 s without scrapes (polls only), the
             background that the scrape figures include
- start-up:  the scrapes begin once every VM's domain XML was read (no config pending, as the
             engine's health says): until then the engine's background config fill (a start-up
             cost, measured in core.json) shares the two cores with the scrape. `fill_cpu_%` is
             the engine's CPU over 5 s without scrapes while the fill still ran (every host read
             once, as the scrapes began before), `fill_s` how long after that the fill ended
The test driver is served by a libvirtd of its own (bench/testdriver_daemon.py; `--driver
inprocess`: test:/// inside the engine), so RPC round trips are real and its memory is not the
engine's. Load on these fleets is synthetic (test driver: statistics are state-only, so a
scrape carries inventory, state and utilisation series; real libvirtd hosts add CPU, balloon,
vCPU, disk and network counters per VM). The figures are about the exporter's own work.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import gzip
import socket
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import libvirt

from bench.common import med_ms, print_table, rss_mib, sized_main, timed
from bench.testdriver_daemon import TestDriverDaemon, cpu_s
from collectors.bulk_stats import DOMAIN_STATS, NOWAIT
from ovtui.config import load_config
from ovtui.demo import start_engine, stop_engine, wait_ready
from ovtui.testdriver_fleet import synthetic_spec, write_fleet

SIZES = (10, 100, 500)
VMS_PER_HOST = 40
REUSE_WINDOW = 5.0  # collectors.exporter_server.Exporter's max_age default


def _floor(uris: list[str]) -> float:
    conns = [libvirt.open(u) for u in uris]
    try:

        def read_all() -> None:
            for c in conns:
                c.getAllDomainStats(DOMAIN_STATS, NOWAIT)

        return statistics.median(timed(read_all, 3))
    finally:
        for c in conns:
            c.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fleet(hosts: int, port: int) -> Path:
    from auth.local_users import LocalUser, write_local_users
    from auth.passwords import hash_password

    root = Path(tempfile.mkdtemp(prefix="ovb-"))
    spec = synthetic_spec(hosts, VMS_PER_HOST, seed=1)
    config = write_fleet(spec, root, exporter_listen=f"127.0.0.1:{port}")
    users = root / "users.toml"
    write_local_users(
        users, [LocalUser("admin", hash_password("bench", n=2**12), frozenset({"ReadOnly"}))]
    )
    with config.open("a") as fh:
        fh.write(f'\n[auth]\nlocal_users_file = "{users}"\n')
    return config


_SENT: dict[str, int] = {}


def _scrape(port: int) -> bytes:
    """GET /metrics as Prometheus does it (gzip, a 10 s scrape timeout); the text, unzipped."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    req.add_header("X-Prometheus-Scrape-Timeout-Seconds", "10")
    req.add_header("Accept-Encoding", "gzip")
    with urllib.request.urlopen(req, timeout=60) as resp:
        body: bytes = resp.read()
        zipped = resp.headers.get("Content-Encoding") == "gzip"
    _SENT["bytes"] = len(body)
    return gzip.decompress(body) if zipped else body


def _value(body: bytes, name: str) -> float:
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return float("nan")


def _peak_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    return round(kib / 1024, 1)


def _engine(config: Path, port: int, hosts: int, repeat: int) -> dict[str, Any]:
    root = config.parent
    proc = start_engine(config, root / "engine.log")
    try:
        deadline = time.monotonic() + 600
        while True:  # every host read once: it has a last-seen time
            if proc.poll() is not None:
                raise SystemExit((root / "engine.log").read_text())
            try:
                body = _scrape(port)
                seen = body.count(b"ovtui_host_last_seen_timestamp_seconds{")
                if seen == hosts:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the engine did not read every host within 600 s")
            time.sleep(0.5)
        fill_from, seen_at = cpu_s(proc.pid), time.monotonic()
        time.sleep(REUSE_WINDOW)
        filling = (cpu_s(proc.pid) - fill_from) / REUSE_WINDOW
        wait_ready(root / "api.sock", proc, root / "engine.log", timeout=900)
        fill_s = time.monotonic() - seen_at
        time.sleep(REUSE_WINDOW + 0.5)  # let the statistics read above expire
        rss_before = rss_mib(proc.pid)
        idle_from = cpu_s(proc.pid)
        time.sleep(REUSE_WINDOW)
        idle = (cpu_s(proc.pid) - idle_from) / REUSE_WINDOW
        cold, waits, warm, cold_cpu, warm_cpu = [], [], [], [], []
        fresh, warm_waits = [], []
        for _ in range(3):
            cpu, cold_began = cpu_s(proc.pid), time.perf_counter()
            body = _scrape(port)
            cold.append(time.perf_counter() - cold_began)
            cold_cpu.append(cpu_s(proc.pid) - cpu)
            waits.append(_value(body, "ovtui_exporter_collect_duration_seconds"))
            for _i in range(repeat):
                cpu, began = cpu_s(proc.pid), time.perf_counter()
                warm_body = _scrape(port)
                ended = time.perf_counter()
                warm.append(ended - began)
                warm_cpu.append(cpu_s(proc.pid) - cpu)
                warm_waits.append(_value(warm_body, "ovtui_exporter_collect_duration_seconds"))
                # No statistics read by the cold scrape (all begun at its start) has expired
                # yet: this one read nothing. Later "warm" scrapes re-read the hosts whose
                # statistics expired, which a cold scrape longer than the window makes all.
                if ended - cold_began < REUSE_WINDOW:
                    fresh.append(ended - began)
            time.sleep(REUSE_WINDOW + 0.5)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            began = time.perf_counter()
            list(pool.map(lambda _i: _scrape(port), range(2)))
            two = time.perf_counter() - began
        samples = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
        return {
            "scrape_cold_ms": med_ms(cold),
            "collect_wait_ms": round(statistics.median(waits) * 1000, 1),
            "scrape_warm_ms": med_ms(warm),
            # warm scrapes that ended within the reuse window of their cold scrape, and how many
            "scrape_warm_fresh_ms": med_ms(fresh) if fresh else None,
            "warm_fresh_n": len(fresh),
            "warm_collect_wait_ms": round(statistics.median(warm_waits) * 1000, 1),
            "cold_cpu_s": round(statistics.median(cold_cpu), 3),
            "warm_cpu_s": round(statistics.median(warm_cpu), 3),
            "idle_cpu_%": round(idle * 100, 1),
            "fill_cpu_%": round(filling * 100, 1),
            "fill_s": round(fill_s, 1),
            "two_scrapers_ms": round(two * 1000, 1),
            "hosts_up_in_scrape": int(_count_up(body)),
            "samples": samples,
            "text_kib": round(len(body) / 1024, 1),
            "sent_kib": round(_SENT["bytes"] / 1024, 1),
            "rss_before_mib": rss_before,
            "rss_after_mib": rss_mib(proc.pid),
            "rss_peak_mib": _peak_mib(proc.pid),
        }
    finally:
        stop_engine(proc)


def _count_up(body: bytes) -> float:
    return sum(
        float(line.split()[1])
        for line in body.decode().splitlines()
        if line.startswith("ovtui_host_scrape_up{")
    )


def run(
    sizes: tuple[int, ...] = SIZES, repeat: int = 5, driver: str = "daemon"
) -> list[dict[str, Any]]:
    rows = []
    for hosts in sizes:
        port = _free_port()
        config = _fleet(hosts, port)
        with contextlib.ExitStack() as stack:
            if driver == "daemon":
                daemon = stack.enter_context(TestDriverDaemon(config.parent))
                daemon.serve(config)
            uris = [h.uri for h in load_config(config).hosts]
            floor = _floor(uris)
            measured = _engine(config, port, hosts, repeat)
        row = {
            "hosts": hosts,
            "vms": hosts * VMS_PER_HOST,
            "driver": driver,
            "libvirt_floor_ms": round(floor * 1000, 1),
            **measured,
            "cold/floor": round(measured["scrape_cold_ms"] / (floor * 1000), 1),
        }
        rows.append(row)
        print_table([row])
    return rows


def main() -> None:
    sized_main("exporter", __doc__, run, SIZES, repeat=5, drivers=True)


if __name__ == "__main__":
    main()
