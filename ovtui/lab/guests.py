"""Lab guests: small TCG domains booting the lab image, and the load knob on their console."""

from __future__ import annotations

import html
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import libvirt

from ovtui.lab import guestinit, networks
from ovtui.lab.image import GuestImage


@dataclass(frozen=True)
class GuestSpec:
    name: str
    memory_mib: int = 96
    vcpus: int = 1
    load: int = 0  # busy loops at boot; change at run time with set_load
    nic: int = 0  # > 0: a virtio NIC on a lab network, address by this number (lab/networks.py)


def guest_name(index: int) -> str:
    return f"vm{index}"


def domain_xml(spec: GuestSpec, image: GuestImage, serial_log: Path) -> str:
    # type='qemu' (TCG): the machine's /dev/kvm is nested without vmx/svm and boots no Linux.
    # No disk, USB or graphics, and a NIC only in a lab with networks: less to emulate and
    # less state to migrate.
    cmdline = f"console=ttyS0 quiet loglevel=3 panic=-1 ovtui.load={spec.load}"
    nic = ""
    if spec.nic:
        cmdline += networks.cmdline(spec.nic)
        nic = networks.interface_xml(spec.nic)
    return f"""<domain type='qemu'>
  <name>{escape(spec.name)}</name>
  <uuid>{uuid.uuid4()}</uuid>
  <memory unit='MiB'>{spec.memory_mib}</memory>
  <vcpu>{spec.vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{escape(str(image.kernel))}</kernel>
    <initrd>{escape(str(image.initrd))}</initrd>
    <cmdline>{escape(cmdline)}</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='pty'>
      <log file={quoteattr(str(serial_log))} append='on'/>
      <target port='0'/>
    </serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <controller type='usb' model='none'/>
    <memballoon model='virtio'/>
    {nic}
  </devices>
</domain>
"""


def serial_log_of(dom: Any) -> Path:
    """The file the guest's console is logged to, from its live definition."""
    m = re.search(r"<log file='([^']+)'", dom.XMLDesc(0))
    if not m:
        raise ValueError(f"guest {dom.name()} has no serial log; it is not a lab guest")
    return Path(html.unescape(m.group(1)))


def set_load(dom: Any, n: int, timeout: float = 30.0) -> None:
    """Type `load n` on the guest's serial console through libvirt and wait for its answer.

    The console stays open until the guest answers: QEMU polls a pty that had no reader only
    about once a second, and what is typed into a pty closed before that is lost. The command
    is typed again every few seconds in case the first one fell into a gap.
    """
    log = serial_log_of(dom)
    offset = log_size(log)
    stream = dom.connect().newStream(0)
    dom.openConsole(None, stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
    try:
        deadline = time.monotonic() + timeout
        while True:
            _send_all(stream, guestinit.load_command(n))
            try:
                wait_log(log, lambda s: guestinit.last_load(s) == n, offset, timeout=3.0)
                return
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"guest {dom.name()} did not confirm load {n} within {timeout:.0f} s"
                    ) from None
    finally:
        stream.abort()


def _send_all(stream: Any, data: bytes) -> None:
    while data:
        sent = stream.send(data)
        if sent > 0:
            data = data[sent:]


def wait_log(log: Path, predicate: Any, offset: int = 0, timeout: float = 60.0) -> str:
    """Wait until predicate(text written to log after offset) is true; returns that text."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(log, encoding="utf-8", errors="replace") as f:
                f.seek(offset)
                text = f.read()
        except FileNotFoundError:
            text = ""
        if predicate(text):
            return text
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{log}: expected output did not appear within {timeout:.0f} s")
        time.sleep(0.1)


def log_size(log: Path) -> int:
    try:
        return log.stat().st_size
    except FileNotFoundError:
        return 0


def current_load(log: Path) -> int | None:
    """The busy loops the guest said it runs in its latest lines (it says so every second)."""
    try:
        with open(log, "rb") as f:
            f.seek(max(0, log_size(log) - 4096))
            tail = f.read().decode(errors="replace")
    except FileNotFoundError:
        return None
    return guestinit.last_load(tail)
