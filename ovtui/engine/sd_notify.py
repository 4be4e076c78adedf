"""systemd's readiness protocol (sd_notify): one datagram to $NOTIFY_SOCKET; nothing without it.

The unit is Type=notify: `systemctl start` returns once the engine said READY=1, and a failed
start shows as failed instead of as a process that merely exists.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def notify(state: str) -> bool:
    """Send e.g. "READY=1"; False when not run by systemd (no NOTIFY_SOCKET) or it failed."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket name
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(state.encode(), address)
    except OSError as exc:
        log.warning("could not tell systemd %r on %s: %s", state, address, exc)
        return False
    return True
