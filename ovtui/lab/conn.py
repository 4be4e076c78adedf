"""Small libvirt helpers for the lab: bounded waits, so that a frozen lab host cannot hang us."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import libvirt

from ovtui.fleet.event_loop import ensure_event_loop

T = TypeVar("T")


def quiet_libvirt() -> None:
    """Stop libvirt printing every error to stderr; the exceptions carry the same text."""

    def ignore(_ctx: object, _err: object) -> None:
        return None

    libvirt.registerErrorHandler(ignore, None)


def with_timeout(fn: Callable[[], T], timeout: float) -> T:
    """Run a blocking libvirt call in a daemon thread; TimeoutError if it does not return.

    The thread is abandoned on timeout (libvirt calls cannot be cancelled); it ends when the
    host answers or the process exits.
    """
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            # Its frames' libvirt objects are freed here and now: kept in a reference cycle,
            # they would be freed by the garbage collector on any thread, and a domain whose
            # connection was closed meanwhile closes it for good, waiting for the daemon.
            traceback.clear_frames(exc.__traceback__)
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {timeout:.1f} s")
    if "error" in box:
        raise box.pop("error")  # not left in box: box -> error -> traceback -> box
    value: T = box["value"]
    return value


def open_conn(uri: str, timeout: float = 10.0) -> Any:
    return with_timeout(lambda: open_with_keepalive(uri), timeout)


def open_with_keepalive(uri: str) -> Any:
    """Blocking. Without a keepalive, the last reference to a connection (a domain freed by
    the garbage collector on any thread, even an engine's event loop in the same process)
    waits forever for a frozen daemon to answer the close."""
    ensure_event_loop()  # keepalive needs libvirt's event loop
    conn = libvirt.open(uri)
    try:
        conn.setKeepAlive(5, 3)
    except libvirt.libvirtError:
        pass  # a local driver (test:///) has none, and no daemon to wait for
    return conn


def answers(uri: str, timeout: float = 3.0) -> bool:
    """True if the daemon behind uri opens a connection and answers one call in time."""
    try:

        def probe() -> bool:
            conn = libvirt.open(uri)
            try:
                conn.getLibVersion()
            finally:
                conn.close()
            return True

        return with_timeout(probe, timeout)
    except (libvirt.libvirtError, TimeoutError):
        return False


def wait_answers(uri: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not answers(uri, timeout=max(0.5, deadline - time.monotonic())):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"libvirt at {uri} did not answer within {timeout:.0f} s")
        time.sleep(0.1)
