"""Issue 2 figures: inventory refresh time and API list latency for 10/100/500 hosts x 40 VMs.

For each size, side by side in one run:
- floor:    the raw libvirt calls a poll makes, alone (getAllDomainStats STATE + the transient
            listing on every host, one thread); `per_vm_floor_ms`: the calls of the old poll
            (listAllDomains + dom.info() per VM), for comparison
- refresh:  the engine's full inventory refresh (every host read concurrently + snapshot build)
- startup:  engine process start to a first full view (health: every host read once, every VM
            listed with its state; configs not read yet are pending) and to a complete one (no
            VM's config pending), medians of 3 starts; their floors: the same libvirt calls
            alone (open, node facts, the poll's two calls; complete: + one XMLDesc per VM),
            max_parallel_reads hosts at once. `startup_api_s`: until the API first answers
            (Python start-up, config, store: the fleet starts just before the API listens, so
            `startup_fleet_s` = first view - API up is the fleet's share, beside the floor). With
            the engine's CPU seconds and the test-driver daemon's over the last start (the
            daemon parses each host's node file when the engine connects: a test-driver
            artefact). The engine runs as installed, its bytecode compiled (bench/bytecode.py:
            one start fills a cache first); `startup_api_uncompiled_s` and
            `startup_first_view_uncompiled_s` are one start without (a source tree that
            cannot write bytecode, as this machine's environment runs it)
- fleet:    the same start-up of the Fleet alone in the bench process (no API, HA, policies),
            medians of 3 starts: what the inventory code itself costs, beside the same floors
- API:      GET /api/v1/hosts, /api/v1/vms (all VMs), /api/v1/vms?host=H, /api/v1/vms/NAME
            over the real Unix socket to a real engine process; medians of repeated calls
- RSS:      of the engine process once every host was read
The test driver is served by libvirtds of its own (bench/testdriver_daemon.py, 25 hosts to a
daemon: one daemon for every host costs more per call the more hosts it serves, where a real fleet
has one per host), reached over test+unix:// as production hosts are over qemu+ssh://: RPC round
trips are real and the driver's memory is not the engine's. Every floor is taken against the
same daemons as the engine; `daemons` says how many. `--driver inprocess` measures with test:///
(driver in the engine).
Load on these fleets is synthetic (test driver); the figures are about the engine's own work.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import libvirt

from bench.bytecode import compiled, loadavg, uncompiled
from bench.common import med_ms, print_table, rss_mib, sized_main, timed
from bench.testdriver_daemon import HOSTS_PER_DAEMON, TestDriverDaemon, cpu_s
from collectors.synthetic_load import SyntheticLoad
from ovtui.client import Client
from ovtui.config import load_config
from ovtui.demo import start_engine, stop_engine
from ovtui.engine.gc_tuning import tune_gc
from ovtui.fleet.fleet import Fleet
from ovtui.fleet.reading import read_node
from ovtui.testdriver_fleet import synthetic_spec, write_fleet

SIZES = (10, 100, 500)
VMS_PER_HOST = 40


def _floor(uris: list[str]) -> tuple[float, float]:
    conns = [libvirt.open(u) for u in uris]
    try:

        def read_all() -> None:
            for c in conns:
                c.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE, 0)
                c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)

        def per_vm() -> None:
            for c in conns:
                for d in c.listAllDomains():
                    d.info()

        return statistics.median(timed(read_all, 3)), min(timed(per_vm, 1))
    finally:
        for c in conns:
            c.close()


async def _refresh(config_path: Path, repeat: int) -> tuple[float, float]:
    config = load_config(config_path)
    config = config.model_copy(
        update={"engine": config.engine.model_copy(update={"poll_interval_seconds": 3600})}
    )
    tune_gc()  # as the engine process does
    fleet = Fleet(config, synthetic_load=SyntheticLoad().vm_cpu)
    await fleet.start()
    await fleet.wait_connected(120)
    try:
        samples, snaps = [], []
        for _ in range(repeat):
            began = time.perf_counter()
            await asyncio.gather(*(fleet.refresh(h) for h in fleet.links))
            mid = time.perf_counter()
            fleet.snapshot()
            samples.append(time.perf_counter() - began)
            snaps.append(time.perf_counter() - mid)
        return statistics.median(samples), statistics.median(snaps)
    finally:
        await fleet.stop()


async def _fleet_startup(config_path: Path, runs: int = 3) -> tuple[float, float]:
    """(first view, complete) of the fleet alone, in this process (no API, HA or policies):
    start to every host read once, and to no VM's config pending; medians of `runs` starts."""
    config = load_config(config_path)
    tune_gc()
    firsts, completes = [], []
    for _ in range(runs):
        fleet = Fleet(config, synthetic_load=SyntheticLoad().vm_cpu)
        began = time.perf_counter()
        await fleet.start()
        try:
            await fleet.wait_first_view(300)
            firsts.append(time.perf_counter() - began)
            await fleet.wait_connected(300)
            completes.append(time.perf_counter() - began)
        finally:
            await fleet.stop()
    return statistics.median(firsts), statistics.median(completes)


def _startup_floor(uris: list[str], threads: int) -> tuple[float, float]:
    """(first view, complete): what a start-up asks libvirt, alone, `threads` hosts at once
    (the engine's max_parallel_reads): open, the node facts, the poll's two calls; complete adds
    one XMLDesc per VM. Each run opens afresh, as the engine does (the daemon parses the host's
    node file then)."""

    def host(uri: str, xml: bool) -> None:
        conn = libvirt.open(uri)
        try:
            read_node(conn)
            records = conn.getAllDomainStats(
                libvirt.VIR_DOMAIN_STATS_STATE, libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT
            )
            conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)
            for dom, _ in records if xml else ():
                dom.XMLDesc(0)
        finally:
            conn.close()

    def run(xml: bool) -> None:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda u: host(u, xml), uris))

    first = statistics.median(timed(lambda: run(False), 3))
    return first, min(timed(lambda: run(True), 1))


def _start(
    config_path: Path, hosts: int, env: dict[str, str], until: str = "complete"
) -> tuple[Any, Client, float, float, float]:
    """Starts the engine: (process, client, seconds until the API answers (Python start-up,
    config, store: no fleet work), to a first full view (every host read, every VM listed with
    its state), until no VM's config is pending). `until`: "api" or "first" return there (the
    later figures are then nan)."""
    root = config_path.parent
    began = time.perf_counter()
    proc = start_engine(config_path, root / "engine.log", env)
    client = Client(root / "api.sock", timeout=60)
    first = api = None
    nan = float("nan")
    while True:
        try:
            health = client.get("/api/v1/health")
        except Exception:
            if proc.poll() is not None:
                raise SystemExit((root / "engine.log").read_text()) from None
            health = {}
        now = time.perf_counter() - began
        if api is None and health:
            api = now
            if until == "api":
                return proc, client, api, nan, nan
        if first is None and health.get("hosts_read") == hosts:
            first = now
            if until == "first":
                return proc, client, api or now, first, nan
        if first is not None and health.get("vms_config_pending") == 0:
            return proc, client, api or now, first, now
        time.sleep(0.02)


def _api(
    config_path: Path, hosts: int, repeat: int, daemon: TestDriverDaemon | None, runs: int = 3
) -> dict[str, Any]:
    # As installed (bytecode/compiled): one start that fills the cache, not measured; and the
    # start-up of a source tree that cannot write bytecode (how this machine runs it), once.
    env = compiled(config_path.parent)
    stop_engine(_start(config_path, hosts, env, until="api")[0])
    proc, _client, uncompiled_api, uncompiled_first, _ = _start(
        config_path, hosts, uncompiled(), until="first"
    )
    stop_engine(proc)
    apis, firsts, completes, loads = [], [], [], []
    for run in range(runs):
        daemon_cpu = daemon.cpu_s() if daemon else 0.0
        loads.append(loadavg())
        proc, client, api, first, complete = _start(config_path, hosts, env)
        apis.append(api)
        firsts.append(first)
        completes.append(complete)
        if run < runs - 1:
            stop_engine(proc)
    try:
        startup_cpu = cpu_s(proc.pid)
        daemon_cpu = daemon.cpu_s() - daemon_cpu if daemon else float("nan")
        client.login("admin", "bench")
        vms = client.get("/api/v1/vms")
        one_host, one_vm = vms[0]["host"], vms[len(vms) // 2]["name"]
        return {
            "startup_load": loads,
            "startup_api_uncompiled_s": round(uncompiled_api, 2),
            "startup_first_view_uncompiled_s": round(uncompiled_first, 2),
            "startup_api_s": round(statistics.median(apis), 2),
            "startup_first_view_s": round(statistics.median(firsts), 2),
            "startup_complete_s": round(statistics.median(completes), 2),
            "startup_engine_cpu_s": round(startup_cpu, 2),
            "startup_daemon_cpu_s": round(daemon_cpu, 2),
            "api_hosts_ms": med_ms(timed(lambda: client.get("/api/v1/hosts"), repeat)),
            "api_vms_all_ms": med_ms(timed(lambda: client.get("/api/v1/vms"), repeat)),
            "api_vms_host_ms": med_ms(
                timed(lambda: client.get("/api/v1/vms", host=one_host), repeat)
            ),
            "api_vm_one_ms": med_ms(timed(lambda: client.get(f"/api/v1/vms/{one_vm}"), repeat)),
            "vms_listed": len(vms),
            "engine_rss_mib": rss_mib(proc.pid),
        }
    finally:
        stop_engine(proc)


def _startup_ratios(row: dict[str, Any]) -> dict[str, float]:
    """The fleet's share of start-up against its floor: from the API's first answer (the fleet
    starts just before the API listens) to the first full view / to no config pending."""
    api = row["startup_api_s"]
    fleet_first = row["startup_first_view_s"] - api
    fleet_complete = row["startup_complete_s"] - api
    return {
        "startup/floor": round(row["startup_first_view_s"] / row["startup_floor_s"], 2),
        "startup_fleet_s": round(fleet_first, 2),
        "engine_fleet_first/floor": round(fleet_first / row["startup_floor_s"], 2),
        "engine_fleet_complete/floor": round(fleet_complete / row["startup_complete_floor_s"], 2),
    }


def _fleet(hosts: int) -> Path:
    from auth.local_users import LocalUser, write_local_users
    from auth.passwords import hash_password

    root = Path(tempfile.mkdtemp(prefix="ovb-"))
    config = write_fleet(synthetic_spec(hosts, VMS_PER_HOST, seed=1), root)
    users = root / "users.toml"
    write_local_users(
        users, [LocalUser("admin", hash_password("bench", n=2**12), frozenset({"ReadOnly"}))]
    )
    with config.open("a") as fh:
        fh.write(f'\n[auth]\nlocal_users_file = "{users}"\n')
    return config


def run(
    sizes: tuple[int, ...] = SIZES,
    repeat: int = 7,
    driver: str = "daemon",
    engine_sizes: tuple[int, ...] | None = None,
    hosts_per_daemon: int | None = HOSTS_PER_DAEMON,
) -> list[dict[str, Any]]:
    """`engine_sizes`: the sizes at which the engine process is started too (default: all);
    `hosts_per_daemon`: hosts served by each test-driver libvirtd (None: one for all)."""
    rows = []
    for hosts in sizes:
        config = _fleet(hosts)
        with contextlib.ExitStack() as stack:
            daemon = None
            if driver == "daemon":
                daemon = stack.enter_context(TestDriverDaemon(config.parent, hosts_per_daemon))
                daemon.serve(config)
            uris = [h.uri for h in load_config(config).hosts]
            floor, per_vm = _floor(uris)
            threads = load_config(config).engine.max_parallel_reads
            first_floor, complete_floor = _startup_floor(uris, threads)
            refresh, snap = asyncio.run(_refresh(config, repeat=3))
            fleet_first, fleet_complete = asyncio.run(_fleet_startup(config))
            row = {
                "hosts": hosts,
                "load": loadavg(),
                "vms": hosts * VMS_PER_HOST,
                "driver": driver,
                "daemons": len(daemon.pids) if daemon else 0,
                "libvirt_floor_ms": round(floor * 1000, 1),
                "per_vm_floor_ms": round(per_vm * 1000, 1),
                "refresh_ms": round(refresh * 1000, 1),
                "refresh/floor": round(refresh / floor, 2),
                "snapshot_build_ms": round(snap * 1000, 2),
                "startup_floor_s": round(first_floor, 2),
                "startup_complete_floor_s": round(complete_floor, 2),
                "fleet_first_view_s": round(fleet_first, 2),
                "fleet_complete_s": round(fleet_complete, 2),
                "fleet_first_view/floor": round(fleet_first / first_floor, 2),
                "fleet_complete/floor": round(fleet_complete / complete_floor, 2),
            }
            if engine_sizes is None or hosts in engine_sizes:
                row.update(_api(config, hosts, repeat, daemon))
                row.update(_startup_ratios(row))
        row["load_end"] = loadavg()
        rows.append(row)
        print_table([row])
    return rows


def main() -> None:
    sized_main("core", __doc__, run, SIZES, repeat=7, drivers=True)


if __name__ == "__main__":
    main()
