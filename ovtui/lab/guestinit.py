"""The guest's userspace: a busybox shell script as PID 1, and the protocol to talk to it.

The guest's first serial port is its console. QEMU copies everything the guest writes there to a
log file outside every host (so it survives migration), and the lab types commands into it
through libvirt's console stream (virDomainOpenConsole), which works on any libvirt connection,
follows the guest when it migrates and needs no agent, disk or network in the guest.

Lines the guest writes:
    ovtui-boot                        once per boot
    ovtui-uptime <seconds> load <n>   every second (uptime from /proc/uptime)
    ovtui-load <n>                    after it changed its number of busy loops
Lines it reads:
    load <n>                          run n busy loops from now on (0 = idle)
    poweroff                          power off at once
    sh <command>                      run a shell command (diagnostics; the console is root's)
An ACPI power button press (virDomainShutdown) also powers it off, through busybox acpid.
"""

from __future__ import annotations

import re

INIT = r"""#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s /bin
export PATH=/bin
exec </dev/console >/dev/console 2>&1
stty -echo
hostname ovtui-guest
insmod /lib/modules/evdev.ko
insmod /lib/modules/button.ko
# acpid opens the event devices present when it starts: wait for the power button's.
i=0
while [ ! -e /dev/input/event0 ] && [ "$i" -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
acpid -c /etc/acpi -l /tmp/acpid.log
. /etc/ovtui-net.sh
echo ovtui-boot
busy=""
set_load() {
    for pid in $busy; do kill "$pid"; done
    busy=""
    i=0
    while [ "$i" -lt "$1" ]; do
        ( while :; do :; done ) &
        busy="$busy $!"
        i=$((i + 1))
    done
    echo "$1" > /tmp/load
    echo "ovtui-load $1"
}
n=$(sed -n 's/.*ovtui\.load=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
set_load "${n:-0}"
(
    while :; do
        read -r up _ < /proc/uptime
        echo "ovtui-uptime $up load $(cat /tmp/load)"
        sleep 1
    done
) &
while :; do
    if read -r cmd arg; then
        case "$cmd" in
            load)
                case "$arg" in
                    ''|*[!0-9]*) echo "ovtui-error load wants a number, not '$arg'" ;;
                    *) set_load "$arg" ;;
                esac ;;
            poweroff) poweroff -f ;;
            ping) ovtui_ping $arg ;;
            pingrun) ovtui_pingrun $arg ;;
            sh) eval "$arg" ;;
        esac
    else
        sleep 1
    fi
done
"""

POWER_BUTTON = """#!/bin/sh
echo ovtui-poweroff
poweroff -f
"""

UPTIME_RE = re.compile(r"^ovtui-uptime (\d+(?:\.\d+)?) load (\d+)", re.MULTILINE)
# Both the answer to `load n` and every uptime line say the current load.
LOAD_RE = re.compile(r"^ovtui-(?:load|uptime \S+ load) (\d+)", re.MULTILINE)
BOOT_RE = re.compile(r"^ovtui-boot\b", re.MULTILINE)


def load_command(n: int) -> bytes:
    if n < 0:
        raise ValueError(f"a load is a number of busy loops, 0 or more, not {n}")
    return f"load {n}\n".encode()


def uptimes(log: str) -> list[float]:
    return [float(m.group(1)) for m in UPTIME_RE.finditer(log)]


def boots(log: str) -> int:
    return len(BOOT_RE.findall(log))


def last_load(log: str) -> int | None:
    found = LOAD_RE.findall(log)
    return int(found[-1]) if found else None
