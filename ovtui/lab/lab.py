"""The lab: N libvirtd hosts with M QEMU guests on this machine, like `kind` for KVM fleets.

Every command reads the state file under the lab root, acts, and writes it back under a lock, so
`up` in one process and `status`, `fail`, `heal` or `down` in another see the same lab.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import libvirt

from ovtui.lab import bmc as bmcmod
from ovtui.lab import config, conn, guestinit, procs
from ovtui.lab import guests as guestmod
from ovtui.lab import host as hostmod
from ovtui.lab import networks as labnets
from ovtui.lab import state as statemod
from ovtui.lab import storage as storagemod
from ovtui.lab.image import GuestImage, ensure_image
from ovtui.lab.packages import Say, ensure_installed
from ovtui.lab.paths import LabPaths, default_cache, default_root
from ovtui.lab.report import GuestInfo, HostInfo, LabReport
from ovtui.lab.state import HostState, LabState

_STATE_NAMES = {
    libvirt.VIR_DOMAIN_RUNNING: "running",
    libvirt.VIR_DOMAIN_PAUSED: "paused",
    libvirt.VIR_DOMAIN_SHUTOFF: "shutoff",
    libvirt.VIR_DOMAIN_SHUTDOWN: "stopping",
    libvirt.VIR_DOMAIN_CRASHED: "crashed",
    libvirt.VIR_DOMAIN_PMSUSPENDED: "suspended",
    libvirt.VIR_DOMAIN_BLOCKED: "blocked",
}
# What the lab creates under its root; `down` removes these and the root if it is then empty.
_LAB_ENTRIES = ("hosts", "guests", "engine", "run", "lab.json", "lab.tmp", "ovtui.toml",
                "ovtui.tmp", "etc-hosts", "lab.lock", "local-users.toml",
                "admin.password", "storage", "bmc")  # fmt: skip


def _quiet(_msg: str) -> None:
    return None


class LabError(RuntimeError):
    """A lab command could not do what it was asked; the message says what to do."""


class Lab:
    """One lab, identified by its root directory (default /var/lib/ovtui-lab or $OVTUI_LAB_ROOT).

    >>> lab = Lab(root=tmp_dir)
    >>> lab.up(hosts=2, guests=3)       # idempotent; returns a LabReport
    >>> lab.config_path, lab.uris()     # the ovtui config and {host: libvirt URI}
    >>> lab.set_load("vm1", 1); lab.fail("h2"); lab.heal("h2"); lab.down()
    """

    def __init__(self, root: Path | None = None, cache: Path | None = None, say: Say = _quiet):
        self.paths = LabPaths(Path(root) if root else default_root())
        self.cache = Path(cache) if cache else default_cache()
        self.say = say

    # -- reading ---------------------------------------------------------------------------

    @property
    def root(self) -> Path:
        return self.paths.root

    @property
    def config_path(self) -> Path:
        return self.paths.config_file

    def state(self) -> LabState:
        return statemod.load(self.paths.state_file)

    def uris(self) -> dict[str, str]:
        return {name: h.uri for name, h in sorted(self.state().hosts.items())}

    def migration_uris(self) -> dict[str, str]:
        return {name: h.migration_uri for name, h in sorted(self.state().hosts.items())}

    def host_names(self) -> list[str]:
        hosts = self.state().hosts
        return sorted(hosts, key=lambda n: hosts[n].index)

    def connect(self, host: str, timeout: float = 10.0) -> Any:
        """A new libvirt connection to a lab host; the caller closes it."""
        return conn.open_conn(self._host(self.state(), host).uri, timeout)

    def serial_log(self, guest: str) -> Path:
        return self.paths.serial_log(guest)

    def host_of(self, guest: str) -> str | None:
        """The running host where guest is active, else one where it is defined, else None."""
        found = None
        for name, state in self._find_guest(guest):
            if state == "running":
                return name
            found = found or name
        return found

    def daemon_pid(self, host: str) -> int | None:
        """PID of the host's libvirtd as this machine sees it; None if it does not run."""
        ref = hostmod.daemon(self._host(self.state(), host))
        return ref.pid if ref else None

    def qemu_pids(self, host: str, guest: str | None = None) -> list[int]:
        """PIDs of the QEMU processes running on host (only guest's, if given)."""
        return [r.pid for r in hostmod.qemus(self._host(self.state(), host), guest)]

    def status(self) -> LabReport:
        st = self.state()
        hosts, found = [], []
        for h in sorted(st.hosts.values(), key=lambda h: h.index):
            live = hostmod.live_status(h)
            pids = [r.pid for r in hostmod.members(h)]
            note = ""
            if live == "running":
                try:
                    found += self._list_guests(h)
                except (libvirt.libvirtError, TimeoutError) as exc:
                    note = f"libvirtd does not answer: {exc}"
            hosts.append(HostInfo(h.name, live, h.uri, h.migration_uri, pids, note))
        cfg = self.config_path if self.config_path.exists() else None
        return LabReport(self.root, cfg, hosts, sorted(found, key=_guest_order))

    # -- acting ----------------------------------------------------------------------------

    def up(
        self,
        hosts: int = 3,
        guests: int = 6,
        memory_mib: int = 96,
        vcpus: int = 1,
        options: config.ConfigOptions | None = None,
        wait_boot: bool = True,
        bmc: bool = False,
        networks: bool = False,
    ) -> LabReport:
        """Start what is missing of an N-host, M-guest lab; report what already ran.
        bmc: every host also gets an IPMI BMC (ipmi_sim) that powers it off and on (bmc.py).
        `networks`: logical networks on every host and a NIC in every guest (lab/networks.py);
        once a lab has them, every later `up` keeps them."""
        if os.geteuid() != 0:
            raise LabError("the lab runs libvirtd and QEMU as root: run `ovtui lab up` as root")
        self.paths.check()
        if not 1 <= hosts <= hostmod.MAX_HOSTS:
            raise LabError(f"--hosts must be 1..{hostmod.MAX_HOSTS}, not {hosts}")
        ensure_installed(self.say, bmcmod.PACKAGES if bmc else ())
        image = ensure_image(self.cache, self.say)
        with self._locked() as st:
            st.image = {"kernel": str(image.kernel), "initrd": str(image.initrd)}
            self.paths.guests_dir.mkdir(parents=True, exist_ok=True)
            self._start_storage(st)
            names = [hostmod.host_name(i) for i in range(1, hosts + 1)]
            hostmod.write_hosts_file(self.paths, sorted(set(names) | set(st.hosts)))
            self._start_hosts(st, names)
            if bmc:
                for name in names:
                    bmcmod.start(self.paths, st.hosts[name])
                    self._save(st)
                    self.say(f"BMC of {name} on 127.0.0.1:{st.hosts[name].bmc_port}")
            nets = networks or labnets.enabled(self.root)
            if nets:
                self._start_networks(st)
            specs = [
                guestmod.GuestSpec(
                    guestmod.guest_name(i), memory_mib, vcpus, st.guests.get(n, 0), i if nets else 0
                )
                for i in range(1, guests + 1)
                for n in [guestmod.guest_name(i)]
            ]
            self._start_guests(st, names, specs, image, wait_boot)
            self._write_config(st, options or config.ConfigOptions())
        return self.status()

    def down(self) -> LabReport:
        """Kill every process of every host, then remove what the lab put under its root."""
        with self._locked() as st:
            report = self.status()
            left: list[int] = []
            for h in st.hosts.values():
                left += bmcmod.stop(h)
                left += hostmod.kill(h)
                h.status = "stopped"
            left += self._kill_strays()
            if left:
                raise LabError(f"processes {left} of the lab survived SIGKILL; see `ps -p`")
            st.hosts.clear()
            labnets.remove(self.root)
            if st.storage:
                problems = storagemod.down(storagemod.LabStorage.from_json(st.storage))
                if problems:
                    raise LabError("lab storage: " + "; ".join(problems))
                st.storage = {}
        for entry in _LAB_ENTRIES:
            path = self.root / entry
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.root.rmdir()
        return report

    def fail(self, host: str, hang: bool = False) -> None:
        """Power-cut a host (its libvirtd and QEMUs die), or with hang freeze it (SIGSTOP)."""
        with self._locked() as st:
            h = self._host(st, host)
            if hang:
                hostmod.freeze(h)
                h.status = "hung"
            else:
                left = hostmod.kill(h)
                if left:
                    raise LabError(f"host {host}: processes {left} survived SIGKILL")
                h.status = "failed"

    def freeze_daemon(self, host: str) -> int:
        """SIGSTOP only the host's libvirtd: its QEMUs run on, the host answers nothing (split
        brain). `fail` (a power-off) or `down` ends it; returns the daemon's PID."""
        h = self._host(self.state(), host)
        ref = hostmod.daemon(h)
        if ref is None or not procs.signal_ref(ref, signal.SIGSTOP):
            raise LabError(f"host {host}: libvirtd is not running")
        return ref.pid

    def bmc_reachable(self, host: str, reachable: bool) -> None:
        """Freeze (False) or thaw (True) the host's BMC: an unreachable BMC, for tests."""
        h = self._host(self.state(), host)
        if not (bmcmod.thaw(h) if reachable else bmcmod.freeze(h)):
            raise LabError(f"host {host} has no running BMC: `lab up --bmc`")

    def bmc_address(self, host: str) -> tuple[str, int, str, Path]:
        """(address, port, user, password file) of the host's BMC."""
        h = self._host(self.state(), host)
        if h.bmc_port is None:
            raise LabError(f"host {host} has no BMC: `lab up --bmc`")
        return "127.0.0.1", h.bmc_port, bmcmod.USER, bmcmod.password_file(self.paths)

    def kill_daemon(self, host: str, timeout: float = 15.0) -> int:
        """SIGKILL the host's libvirtd by PID, as a crash would; returns that PID.

        The host's init lives only as long as its libvirtd, so the whole host goes with it (its
        QEMUs too): the host is then "dead" until `heal`. Does not take the lab's lock, so that
        it can strike while another lab command (or a migration) is running.
        """
        h = self._host(self.state(), host)
        ref = hostmod.daemon(h)
        if ref is None:
            raise LabError(f"host {host}: libvirtd is not running")
        if procs.kill_and_wait([ref], timeout):
            raise LabError(f"host {host}: libvirtd (PID {ref.pid}) survived SIGKILL")
        deadline = time.monotonic() + timeout
        while hostmod.members(h):  # empty once the host's init is gone
            if time.monotonic() >= deadline:
                raise LabError(f"host {host}: its init outlived its libvirtd by {timeout:.0f} s")
            time.sleep(0.02)
        return ref.pid

    def restart_daemon(self, host: str, timeout: float = 30.0) -> int:
        """Restart the host's libvirtd, frozen or not, its QEMUs running on (a soft fence, as
        `systemctl restart libvirtd` would): its init kills it by PID and starts it again
        (hostinit.py, SIGHUP). Returns once the new daemon answers; its PID. Takes no lock, like
        kill_daemon: it strikes while the lab is in use."""
        h = self._host(self.state(), host)
        old = hostmod.daemon(h)
        if h.init is None or old is None or procs.stopped(h.init):
            raise LabError(f"host {host}: no running libvirtd to restart (see `lab status`)")
        if not procs.signal_ref(h.init, signal.SIGHUP):
            raise LabError(f"host {host}: its init (PID {h.init.pid}) is gone")
        deadline = time.monotonic() + timeout
        while (new := hostmod.daemon(h)) is None or new.pid == old.pid:
            if time.monotonic() >= deadline or not procs.alive(h.init):
                raise LabError(f"host {host}: libvirtd did not start again within {timeout:.0f} s")
            time.sleep(0.05)
        hostmod.wait_ready(self.paths, h, max(1.0, deadline - time.monotonic()))
        return new.pid

    def heal(self, host: str, start_guests: bool = False, timeout: float = 30.0) -> None:
        """Bring a failed host back (its guests stay shut off unless start_guests) or thaw it."""
        with self._locked() as st:
            h = self._host(st, host)
            live = hostmod.live_status(h)
            if live == "hung":
                hostmod.thaw(h)
                h.status = "running"
            elif live != "running":
                hostmod.kill(h)  # leftovers of a host that died by itself
                hostmod.start(self.paths, h)
                self._save(st)
                hostmod.wait_ready(self.paths, h, timeout)
            if start_guests:
                c = conn.open_conn(h.uri)
                try:
                    for dom in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE):
                        dom.create()
                finally:
                    c.close()

    def ping(self, guest: str, addr: str, count: int = 3) -> tuple[int, int]:
        """(sent, received) as the guest reports them for `count` pings to addr."""
        from ovtui.lab import guest_ping

        host = self.host_of(guest)
        if host is None:
            raise LabError(f"guest {guest!r} is not running on any lab host")
        c = self.connect(host)
        try:
            return guest_ping.ping(c.lookupByName(guest), addr, count)
        finally:
            c.close()

    def set_load(self, guest: str, n: int, timeout: float = 30.0) -> None:
        """Run n busy loops in guest from now on (0 = idle), through its serial console."""
        with self._locked() as st:
            host = next((h for h, s in self._find_guest(guest) if s == "running"), None)
            if host is None:
                raise LabError(f"guest {guest} is not running on any lab host")
            c = conn.open_conn(st.hosts[host].uri)
            try:
                guestmod.set_load(c.lookupByName(guest), n, timeout)
            finally:
                c.close()
            st.guests[guest] = n

    # -- helpers ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[LabState]:
        with statemod.locked(self.paths.lock_file):
            st = self.state()
            try:
                yield st
            finally:
                if st.hosts or self.paths.state_file.exists():
                    self._save(st)

    def _save(self, st: LabState) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        statemod.save(self.paths.state_file, st)

    def _host(self, st: LabState, name: str) -> HostState:
        if name not in st.hosts:
            known = ", ".join(sorted(st.hosts)) or "none: run `ovtui lab up`"
            raise LabError(f"no lab host {name!r} in {self.root} (hosts: {known})")
        return st.hosts[name]

    def _start_hosts(self, st: LabState, names: list[str]) -> None:
        starting = []
        for i, name in enumerate(names, start=1):
            h = st.hosts.get(name) or hostmod.new_host(self.paths, i)
            st.hosts[name] = h
            live = hostmod.live_status(h)
            if live in ("running", "hung"):
                self.say(f"host {name} already {live}")
                continue
            hostmod.kill(h)
            hostmod.start(self.paths, h)
            self._save(st)  # from here on, `down` can find it
            starting.append(h)
        for h in starting:
            hostmod.wait_ready(self.paths, h)
            self.say(f"host {h.name} up: {h.uri}")

    def _start_networks(self, st: LabState) -> None:
        labnets.create(self.root, [h.index for h in st.hosts.values()])
        for h in st.hosts.values():
            if hostmod.live_status(h) == "running":
                c = conn.open_conn(h.uri)
                try:
                    labnets.define(c, self.root, h.index)
                finally:
                    c.close()

    def _start_guests(
        self,
        st: LabState,
        names: list[str],
        specs: list[guestmod.GuestSpec],
        image: GuestImage,
        wait_boot: bool,
    ) -> None:
        running = [n for n in names if hostmod.live_status(st.hosts[n]) == "running"]
        if not running:
            return
        where = {g: h for h, ginfo in self._all_guests(st) for g in [ginfo.name]}
        states = {ginfo.name: ginfo.state for _h, ginfo in self._all_guests(st)}
        todo: list[tuple[str, guestmod.GuestSpec]] = []
        for i, spec in enumerate(specs):
            if states.get(spec.name) == "running":
                self.say(f"guest {spec.name} already running on {where[spec.name]}")
                continue
            todo.append((where.get(spec.name) or running[i % len(running)], spec))
            st.guests.setdefault(spec.name, spec.load)
        offsets = {s.name: guestmod.log_size(self.paths.serial_log(s.name)) for _h, s in todo}
        # Lab hosts share the machine's network namespace, so their daemons pick tap names
        # (vnetN) from one space: two creating at once can both choose vnet1 and one fails
        # with "Device or resource busy" (seen in CI). Guests with a NIC start one at a time.
        tap_lock = threading.Lock()

        def start_one(item: tuple[str, guestmod.GuestSpec]) -> None:
            host, spec = item
            c = conn.open_conn(st.hosts[host].uri)
            try:
                try:
                    dom = c.lookupByName(spec.name)
                except libvirt.libvirtError:
                    log = self.paths.serial_log(spec.name)
                    dom = c.defineXML(guestmod.domain_xml(spec, image, log))
                if spec.nic:
                    with tap_lock:
                        dom.create()
                else:
                    dom.create()
            finally:
                c.close()
            self.say(f"guest {spec.name} started on {host}")

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(start_one, todo))
        if wait_boot:
            for _h, spec in todo:
                guestmod.wait_log(
                    self.paths.serial_log(spec.name),
                    lambda s: bool(guestinit.uptimes(s)),
                    offsets[spec.name],
                    timeout=120.0,
                )

    def _list_guests(self, h: HostState) -> list[GuestInfo]:
        def listing() -> list[GuestInfo]:
            c = conn.open_with_keepalive(h.uri)
            try:
                return [
                    GuestInfo(d.name(), h.name, state, load)
                    for d in c.listAllDomains()
                    for state in [_STATE_NAMES.get(d.state()[0], "unknown")]
                    for load in [self._load_of(d.name()) if state == "running" else None]
                ]
            finally:
                c.close()

        result: list[GuestInfo] = conn.with_timeout(listing, 5.0)
        return result

    def _load_of(self, guest: str) -> int | None:
        return guestmod.current_load(self.paths.serial_log(guest))

    def _all_guests(self, st: LabState) -> list[tuple[str, GuestInfo]]:
        found = []
        for h in st.hosts.values():
            if hostmod.live_status(h) == "running":
                with contextlib.suppress(libvirt.libvirtError, TimeoutError):
                    found += [(h.name, g) for g in self._list_guests(h)]
        return found

    def _find_guest(self, guest: str) -> list[tuple[str, str]]:
        return [(h, g.state) for h, g in self._all_guests(self.state()) if g.name == guest]

    def _write_config(self, st: LabState, options: config.ConfigOptions) -> None:
        h = next(h for h in st.hosts.values() if hostmod.live_status(h) == "running")
        c = conn.open_conn(h.uri)
        try:
            caps = c.getCapabilities()
        finally:
            c.close()
        m = re.search(r"<host>.*?<cpu>.*?<model>([^<]+)</model>", caps, re.S)
        cpu_model = m.group(1) if m else "qemu64"
        first = min(st.hosts.values(), key=lambda h: h.index).name
        lab_storage = storagemod.LabStorage.from_json(st.storage)
        domains = storagemod.domains_toml(lab_storage, config.DATACENTER, first)
        hosts = list(st.hosts.values())
        bmc_password = bmcmod.password_file(self.paths)
        text = config.render(self.root, hosts, cpu_model, options, domains, bmc_password)
        if labnets.enabled(self.root):
            text += labnets.config_toml()
        config.write(self.config_path, text)
        config.ensure_admin(self.root)

    def storage(self) -> storagemod.LabStorage:
        """The lab's shared directory, loop device and iSCSI target (see ovtui.lab.storage)."""
        st = self.state()
        if not st.storage:
            raise LabError(f"the lab in {self.root} has no storage: run `ovtui lab up`")
        return storagemod.LabStorage.from_json(st.storage)

    def _start_storage(self, st: LabState) -> None:
        current = storagemod.LabStorage.from_json(st.storage) if st.storage else None
        made = storagemod.up(self.root / "storage", current, self.root.name)
        st.storage = made.to_json()
        self._save(st)  # from here on, `down` can find tgtd and the loop device
        self.say(f"storage: shared {made.shared_dir}, block {made.loop}, iSCSI {made.portal}")

    def _kill_strays(self) -> list[int]:
        """Hosts of this lab that the state file lost (a crash between start and save)."""
        marker = str(self.paths.root / "hosts") + "/"
        strays = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(a.decode(errors="replace").startswith(marker) for a in cmdline) and any(
                a.endswith(b"hostinit.py") for a in cmdline
            ):
                ref = procs.ref_of(int(entry))
                if ref is not None:
                    strays.append(ref)
        return [r.pid for r in procs.kill_and_wait(strays)]


def _guest_order(g: GuestInfo) -> tuple[int, str]:
    m = re.fullmatch(r"vm(\d+)", g.name)
    return (int(m.group(1)) if m else 1 << 30, g.name)
