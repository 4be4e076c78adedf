"""libvirt's own event loop on one daemon thread, started once per process.

It must be registered before the first connection is opened, or that connection never
delivers events. Callbacks run on this thread; consumers hop to asyncio with call_soon_threadsafe.
"""

from __future__ import annotations

import threading

import libvirt

_started = False
_lock = threading.Lock()


def ensure_event_loop() -> None:
    global _started
    with _lock:
        if _started:
            return
        libvirt.virEventRegisterDefaultImpl()
        thread = threading.Thread(target=_run, name="libvirt-events", daemon=True)
        thread.start()
        _started = True


def _run() -> None:
    while True:
        libvirt.virEventRunDefaultImpl()
