"""Talking to a lab guest about its disk: write a known pattern, read it back, checksum it.

Used to prove that a live disk move loses no byte while the guest writes (guestinit.py has the
guest's side). Each command is typed on the serial console until the guest says it started
(`ovtui-doing ...`), then its answer is awaited in the serial log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import libvirt

from ovtui.lab import guestinit
from ovtui.lab.guests import _send_all, log_size, serial_log_of, wait_log


def _command(dom: Any, line: str, answer: Callable[[str], Any], timeout: float) -> str:
    log = serial_log_of(dom)
    offset = log_size(log)
    started = f"ovtui-doing {line}"
    stream = dom.connect().newStream(0)
    dom.openConsole(None, stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
    try:
        deadline = time.monotonic() + 30
        while True:
            _send_all(stream, f"{line}\n".encode())
            try:
                wait_log(log, lambda s: started in s, offset, timeout=3.0)
                break
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"guest {dom.name()} did not start {line!r}") from None
        return wait_log(log, lambda s: answer(s) is not None, offset, timeout=timeout)
    finally:
        stream.abort()


def start_writing(dom: Any, dev: str, blocks: int) -> int:
    """Starts the pattern writer; returns the serial log offset to wait from."""
    offset = log_size(serial_log_of(dom))
    _command(dom, f"write {dev} {blocks}", lambda s: s if "ovtui-doing" in s else None, 10)
    return offset


def wait_written(dom: Any, dev: str, offset: int, timeout: float = 300.0) -> int:
    text = wait_log(
        serial_log_of(dom), lambda s: guestinit.written(s, dev) is not None, offset, timeout
    )
    n = guestinit.written(text, dev)
    assert n is not None
    return n


def check(dom: Any, dev: str, blocks: int, timeout: float = 300.0) -> tuple[int, int]:
    """(blocks right, blocks wrong) of 0..blocks-1, read back from the disk."""
    text = _command(dom, f"check {dev} {blocks}", lambda s: guestinit.checked(s, dev), timeout)
    found = guestinit.checked(text, dev)
    assert found is not None
    return found


def checksum(dom: Any, dev: str, timeout: float = 300.0) -> str:
    text = _command(dom, f"sum {dev}", lambda s: guestinit.summed(s, dev), timeout)
    found = guestinit.summed(text, dev)
    assert found is not None
    return found
