"""Asking a lab guest to ping, through its serial console, and reading its answer from the log.

The guest prints what it saw (ovtui.lab.guest_net): the test reads the guest's own words, not
anything measured from outside.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import libvirt

from ovtui.lab import guest_net
from ovtui.lab.guests import _send_all, log_size, serial_log_of, wait_log


def console_command(
    dom: Any, command: bytes, done: Callable[[str], bool], timeout: float, retry_after: float
) -> str:
    """Types `command` on the console until `done(text logged since)` holds; returns that text.
    Typed again after `retry_after` s without an answer (a pty QEMU had not polled yet loses
    what is typed into it, see guests.set_load)."""
    log = serial_log_of(dom)
    offset = log_size(log)
    stream = dom.connect().newStream(0)
    dom.openConsole(None, stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
    try:
        deadline = time.monotonic() + timeout
        while True:
            _send_all(stream, command)
            try:
                return wait_log(log, done, offset, timeout=retry_after)
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"guest {dom.name()} did not answer {command!r} within {timeout:.0f} s"
                    ) from None
    finally:
        stream.abort()


def ping(dom: Any, addr: str, count: int = 3, timeout: float = 60.0) -> tuple[int, int]:
    """(sent, received) of `count` pings from the guest to addr."""
    text = console_command(
        dom,
        guest_net.ping_command(addr, count),
        lambda s: bool(guest_net.ping_results(s, addr)),
        timeout,
        retry_after=count * 1.5 + 5,
    )
    return guest_net.ping_results(text, addr)[0]


def start_pingrun(dom: Any, addr: str, count: int, interval: float) -> int:
    """Starts `count` pings every `interval` s in the background; returns the log offset to
    read its replies from (guest_net.replies, after ovtui-pingdone)."""
    log = serial_log_of(dom)
    offset = log_size(log)
    console_command(
        dom,
        guest_net.pingrun_command(addr, count, interval),
        lambda s: "ovtui-pingline" in s,
        timeout=30.0,
        retry_after=5.0,
    )
    return offset
