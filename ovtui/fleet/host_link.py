"""One host: its libvirt connection, its own worker threads, a timeout per call, reconnects.

Each host gets its own small thread pool so that a hung hypervisor only ever ties up its own
threads: its calls time out, the host turns non_responsive, and every other host carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import libvirt

from ovtui.config.schema import HostConfig
from ovtui.fleet.errors import FleetError, from_libvirt, is_connection_lost
from ovtui.fleet.event_loop import ensure_event_loop
from ovtui.model import HostState

log = logging.getLogger(__name__)
T = TypeVar("T")
LifecycleCallback = Callable[[str, str, int, int], None]  # host, vm uuid, event, detail
BalloonCallback = Callable[[str, str], None]  # host, vm uuid
WORKERS_PER_HOST = 4  # poll + a few operations (a migration holds one for its whole run)


class HostLink:
    def __init__(
        self,
        cfg: HostConfig,
        *,
        call_timeout: float,
        backoff_max: float,
        on_lifecycle: LifecycleCallback | None = None,
        on_balloon: BalloonCallback | None = None,
        on_state_change: Callable[[str], None] | None = None,
        expected_down: Callable[[str], bool] = lambda _h: False,
    ) -> None:
        """`expected_down(host)` says the host was powered off on purpose (power management):
        losing it is then reported at INFO, not as a warning."""
        self.cfg = cfg
        self.name = cfg.name
        self.call_timeout = call_timeout
        self.backoff_max = backoff_max
        self.state = HostState.CONNECTING
        self.reason = "connecting"
        self.conn: libvirt.virConnect | None = None
        self.driver = ""
        self._on_lifecycle = on_lifecycle
        self._on_balloon = on_balloon
        self._on_state_change = on_state_change
        self._expected_down = expected_down
        self._lifecycle_id: list[int] | None = None  # self.conn's domain event callbacks
        # Connections dropped as lost, with their event callbacks (see mark_lost): events they
        # still deliver (a host that was only hung) are not this link's any more. Retired once
        # the host answers again (_retire_dropped). Changed under _dropped_lock: libvirt's
        # event thread reads it, a retiring thread shortens it.
        self._dropped: list[tuple[libvirt.virConnect, list[int] | None]] = []
        self._dropped_lock = threading.Lock()
        self._retiring: set[int] = set()  # id() of those a thread is retiring now
        self._executor = self._new_executor()
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.connected_at: float | None = None

    def _new_executor(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(WORKERS_PER_HOST, thread_name_prefix=f"host-{self.cfg.name}")

    @property
    def live_migration(self) -> bool:
        # The test driver has no migration at all (notes/LAB.md); everything else is assumed able.
        return self.driver.upper() != "TEST"

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._connect_forever(), name=f"connect-{self.name}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        conn, self.conn = self.conn, None
        if conn is not None:
            # Off the loop, bounded: closing waits for a hung peer's answer.
            loop = asyncio.get_running_loop()
            closing = loop.run_in_executor(self._executor, _close_quietly, conn, self._lifecycle_id)
            try:
                async with asyncio.timeout(self.call_timeout):
                    await closing
            except TimeoutError:
                pass  # a hung peer: the thread finishes when it answers or the process exits
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _connect_forever(self) -> None:
        delay = 1.0
        while True:
            try:
                await self._open()
                delay = 1.0
                self._lost.clear()
                await self._lost.wait()
            except FleetError as exc:
                self._set_state(HostState.NON_RESPONSIVE, f"{exc.message}; retrying in {delay:g} s")
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)

    async def _open(self) -> None:
        ensure_event_loop()
        loop = asyncio.get_running_loop()
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that arrives as
        # the call completes (CPython gh-86296); stop() would then wait for this task forever.
        try:
            async with asyncio.timeout(self.call_timeout):
                # The open is a fresh pool's first call (at start and after its threads were
                # abandoned), so submitting it starts the pool's first thread, and
                # Thread.start() waits until that thread runs: with hundreds of hosts' threads
                # busy that is a wait for the GIL, longer the more hosts there are, and on the
                # loop it stalls every host. One of the loop's default helper threads submits
                # it instead.
                pool = self._executor
                fut = await loop.run_in_executor(None, pool.submit, self._open_blocking)
                conn, driver, lifecycle_id = await asyncio.wrap_future(fut)
        except TimeoutError:
            self._abandon_threads()
            raise FleetError(
                f"no answer from {self.cfg.uri} within {self.call_timeout:g} s",
                kind="timeout",
                host=self.name,
            ) from None
        except libvirt.libvirtError as exc:
            raise from_libvirt(exc, action="connect", host=self.name) from None
        self.conn, self.driver, self.connected_at = conn, driver, time.time()
        self._lifecycle_id = lifecycle_id
        self._set_state(HostState.UP, "")
        self._retire_dropped()

    def _retire_dropped(self) -> None:
        """The host answers again: the connections dropped while it hung are either alive too
        (the hang was shorter than their keepalive), then closed with their callbacks, or dead,
        then only forgotten. Each is a round trip, so on a throwaway thread."""
        with self._dropped_lock:  # one retiring thread per connection, however often it flaps
            dropped = [d for d in self._dropped if id(d[0]) not in self._retiring]
            self._retiring.update(id(c) for c, _ids in dropped)
        if dropped:
            threading.Thread(target=self._retire, args=(dropped,), daemon=True).start()

    def _retire(self, dropped: list[tuple[libvirt.virConnect, list[int] | None]]) -> None:
        for conn, ids in dropped:
            try:
                alive = conn.isAlive() == 1
            except libvirt.libvirtError:
                alive = False
            if alive:  # answering again: nothing is reporting its death now
                with contextlib.suppress(libvirt.libvirtError):
                    conn.unregisterCloseCallback()  # it holds a reference too
                _close_quietly(conn, ids)
            else:
                # A dead one keeps its callbacks (see mark_lost); they hold the last
                # references, so this close only gives up ours and asks the dead peer nothing.
                _close_quietly(conn, None)
            with self._dropped_lock:
                self._dropped = [d for d in self._dropped if d[0] is not conn]
                self._retiring.discard(id(conn))

    def _open_blocking(self) -> tuple[libvirt.virConnect, str, list[int] | None]:
        conn = libvirt.open(self.cfg.uri)
        driver = conn.getType()
        try:
            conn.setKeepAlive(5, 3)  # remote drivers: a dead peer is noticed within ~20 s
        except libvirt.libvirtError:
            pass  # local drivers (test, qemu:///) have no keepalive
        try:
            conn.registerCloseCallback(self._closed_from_libvirt, None)
        except libvirt.libvirtError:
            pass
        ids = []
        if self._on_lifecycle is not None:
            ids.append(
                conn.domainEventRegisterAny(
                    None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle_from_libvirt, None
                )
            )
        if self._on_balloon is not None:
            ids.append(
                conn.domainEventRegisterAny(
                    None,
                    libvirt.VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE,
                    self._balloon_from_libvirt,
                    None,
                )
            )
        return conn, driver, ids or None

    # -- libvirt callbacks (libvirt's event thread) ---------------------------------------------
    def _to_loop(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # the engine has stopped: nobody is left to tell
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            pass  # it closed between the check and the call

    def _lifecycle_from_libvirt(
        self, _conn: libvirt.virConnect, dom: libvirt.virDomain, event: int, detail: int, _o: object
    ) -> None:
        if self._on_lifecycle is not None and not self._is_dropped(_conn):
            self._to_loop(self._on_lifecycle, self.name, dom.UUIDString(), event, detail)

    def _balloon_from_libvirt(
        self, _conn: libvirt.virConnect, dom: libvirt.virDomain, _actual: int, _o: object
    ) -> None:
        if self._on_balloon is not None and not self._is_dropped(_conn):
            self._to_loop(self._on_balloon, self.name, dom.UUIDString())

    def _is_dropped(self, conn: libvirt.virConnect) -> bool:
        return any(conn is c for c, _ids in self._dropped)

    def _closed_from_libvirt(self, conn: libvirt.virConnect, reason: int, _o: object) -> None:
        self._to_loop(self._closed, conn, reason)

    def _closed(self, conn: libvirt.virConnect, reason: int) -> None:
        # A connection given up earlier (timed out, then closed) reports its close late:
        # that says nothing about the connection in use now.
        if conn is self.conn:
            self.mark_lost(f"connection closed by libvirt (reason {reason})")

    # -- calls ---------------------------------------------------------------------------------
    async def call(
        self,
        fn: Callable[[libvirt.virConnect], T],
        *,
        action: str,
        vm: str | None = None,
        timeout: float | None = None,
        hung_means_lost: bool = True,
    ) -> T:
        """Runs fn(conn) on this host's threads; a timeout marks the host non_responsive.

        Long jobs (migrations) pass hung_means_lost=False: their timeout says nothing about the
        host, and the caller aborts the job on the still-working connection.
        """
        conn = self.conn
        if conn is None or self.state not in (HostState.UP,):
            raise FleetError(
                f"{action} on {self.name} refused: host is {self.state.value} ({self.reason})",
                kind="unavailable",
                host=self.name,
                vm=vm,
            )
        loop = asyncio.get_running_loop()
        limit = timeout if timeout is not None else self.call_timeout
        try:
            async with asyncio.timeout(limit):  # not wait_for: see _open
                return await loop.run_in_executor(self._executor, _checked, fn, conn)
        except TimeoutError:
            if not hung_means_lost:
                raise FleetError(
                    f"{action} on {self.name} did not finish within {limit:g} s",
                    kind="timeout",
                    host=self.name,
                    vm=vm,
                ) from None
            self._abandon_threads()
            self.mark_lost(f"no answer within {limit:g} s ({action})")
            raise FleetError(
                f"{action} on {self.name} got no answer within {limit:g} s; "
                "the host is marked non_responsive",
                kind="timeout",
                host=self.name,
                vm=vm,
            ) from None
        except _Failed as failed:
            exc = failed.error
            err = from_libvirt(exc, action=action, host=self.name, vm=vm)
            # A migration also talks to the target: its lost connection is not this host's.
            if is_connection_lost(exc) and not failed.conn_alive:
                self.mark_lost(err.message)
            raise err from None

    def mark_lost(self, reason: str) -> None:
        if self.conn is None and self.state == HostState.NON_RESPONSIVE:
            return
        if self._expected_down(self.name):
            log.info("host %s is powered off (power management): %s", self.name, reason)
        else:
            log.warning("host %s lost: %s", self.name, reason)
        conn, self.conn = self.conn, None
        if conn is not None:
            # Neither closed nor its event callbacks deregistered now: deregistering them while
            # libvirt's event thread reported the same connection's death crashed the process
            # (SIGSEGV in virConnectDomainEventDeregisterAny, seen in CI with a lab host
            # killed). Kept until the host answers again, then retired (_retire_dropped).
            with self._dropped_lock:
                self._dropped.append((conn, self._lifecycle_id))
        self._set_state(HostState.NON_RESPONSIVE, reason)
        self._lost.set()

    def _abandon_threads(self) -> None:
        # The stuck thread stays blocked inside libvirt; new calls get fresh threads.
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = self._new_executor()

    def _set_state(self, state: HostState, reason: str) -> None:
        changed = state != self.state
        self.state, self.reason = state, reason
        if changed and self._on_state_change is not None:
            self._on_state_change(self.name)


class _Failed(Exception):
    """A libvirt error, and whether this host's connection was still alive after it."""

    def __init__(self, error: libvirt.libvirtError, conn_alive: bool) -> None:
        super().__init__(str(error))
        self.error, self.conn_alive = error, conn_alive


def _checked(fn: Callable[[libvirt.virConnect], T], conn: libvirt.virConnect) -> T:
    try:
        return fn(conn)
    except libvirt.libvirtError as exc:
        try:
            alive = conn.isAlive() == 1  # the client's own view: no round trip
        except libvirt.libvirtError:
            alive = False
        _forget_locals(exc)
        raise _Failed(exc, alive) from None
    except BaseException as exc:
        _forget_locals(exc)
        raise


def _forget_locals(exc: BaseException) -> None:
    """Frees, here on the host's worker thread, the libvirt objects (domains, pools) that the
    failed call's frames still hold; the exception keeps its lines, not its locals.

    Carried to the event loop inside the exception's traceback (a reference cycle), a domain
    would be freed by whichever thread next runs the garbage collector, usually the loop. If
    its connection was closed meanwhile, that last reference closes the connection: a round
    trip that waits for the daemon, up to the keepalive's ~20 s for a hung host (measured on
    the lab with a frozen libvirtd), during which the whole engine stands still."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if e.__traceback__ is not None:
            traceback.clear_frames(e.__traceback__)
        todo += [e.__cause__, e.__context__]


def _close_quietly(conn: libvirt.virConnect, lifecycle_id: list[int] | None = None) -> None:
    """Closes a connection we are done with. Its close callback stays registered: unregistering
    it while libvirt's event thread reports the same connection's death (a host killed) crashed
    the whole process in libvirt-python (SIGSEGV in virConnectUnregisterCloseCallback, seen on
    the lab). A late report is harmless: `_closed` ignores a connection no longer in use, and
    `_to_loop` one that arrives after the engine's loop has gone."""
    try:
        if conn.isAlive() == 1:  # a dead one has no events left to stop, nor a peer to ask
            for callback_id in lifecycle_id or ():
                conn.domainEventDeregisterAny(callback_id)
        conn.close()
    except libvirt.libvirtError:
        pass
