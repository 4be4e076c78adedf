"""Forwarding audit records to syslog (local socket, UDP or TCP), so a copy leaves the box.

`/dev/log` (or any absolute path) is a local syslog socket; `udp://HOST:PORT` and
`tcp://HOST:PORT` reach a remote collector. Records go out as one JSON line each, facility
authpriv, priority warning for refusals, failures and break-glass use, info otherwise.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import socket
from typing import Any

TAG = "ovtui-audit"
log = logging.getLogger(__name__)


def parse_target(target: str) -> tuple[str | tuple[str, int], socket.SocketKind]:
    """'/dev/log' -> ('/dev/log', DGRAM); 'udp://h:514' -> (('h', 514), DGRAM); tcp likewise."""
    if target.startswith("/"):
        return target, socket.SOCK_DGRAM
    scheme, sep, rest = target.partition("://")
    host, colon, port = rest.rpartition(":")
    kinds = {"udp": socket.SOCK_DGRAM, "tcp": socket.SOCK_STREAM}
    if (
        not sep
        or scheme not in kinds
        or not colon
        or not port.isdigit()
        or not host
        or not (0 < int(port) < 65536)
    ):
        raise ValueError(
            f"{target!r} is not a syslog target: use /dev/log, udp://HOST:PORT or tcp://HOST:PORT"
        )
    return (host.strip("[]"), int(port)), kinds[scheme]


def _level(record: dict[str, Any]) -> int:
    if record.get("result") not in ("ok", "", None) or "BREAK-GLASS" in str(record.get("detail")):
        return logging.WARNING
    return logging.INFO


class SyslogSink:
    """Callable audit sink: sink(record) sends one syslog message.

    A local socket that is missing at start (no syslog daemon yet) is retried at each record;
    the local hash-chained trail is complete either way.
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self._address, self._kind = parse_target(target)
        self._handler: logging.handlers.SysLogHandler | None = None
        self._warned = False
        self._open()

    def _open(self) -> logging.handlers.SysLogHandler | None:
        if self._handler is None:
            try:
                handler = logging.handlers.SysLogHandler(
                    address=self._address,
                    facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV,
                    socktype=self._kind,
                )
            except OSError as exc:
                if not self._warned:
                    log.warning("audit syslog %s not reachable yet: %s", self.target, exc)
                    self._warned = True
                return None
            handler.setFormatter(logging.Formatter(f"{TAG}: %(message)s"))
            handler.append_nul = False
            self._handler = handler
        return self._handler

    def __call__(self, record: dict[str, Any]) -> None:
        handler = self._open()
        if handler is None:
            return
        line = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
        handler.handle(logging.LogRecord(TAG, _level(record), __file__, 0, line, None, None))

    def close(self) -> None:
        if self._handler is not None:
            self._handler.close()
            self._handler = None
